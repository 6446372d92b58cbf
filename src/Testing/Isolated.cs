using FsCheck;
using FsCheck.Fluent;
using Microsoft.FSharp.Core;

namespace Nursery.Testing;

/// <summary>
/// Property checks whose body runs in supervised child processes: the generated input goes to a child, the body runs
/// there, and the assertion runs here on the result. A crash, stack overflow, OOM, hang past the case timeout or
/// protocol violation falsifies the case with the failure as its label, and FsCheck shrinks it as usual. The children
/// are kept for the run (a failed one is replaced) and all reaped before the run's task completes; a falsified property
/// fails only its own test.
/// </summary>
public static class Isolated
{
    /// <summary>Children for <paramref name="body"/>, kept until the isolation is disposed; build properties with its <c>Case</c> and <c>ForAll</c>.</summary>
    /// <exception cref="ArgumentException">The body cannot run in a child (it captures variables, say), or an option is out of range.</exception>
    public static Isolation<TIn, TOut> Start<TIn, TOut>(Func<TIn, TOut> body, IsolationOptions? options = null) => new(Body.From(body), options);

    /// <summary>As <see cref="Start{TIn,TOut}(Func{TIn,TOut}, IsolationOptions?)"/>, for a body already made (an F# function through <c>Pipeline.body</c>, an initializer, a codec).</summary>
    public static Isolation<TIn, TOut> Start<TIn, TOut>(Body<TIn, TOut> body, IsolationOptions? options = null) => new(body, options);

    /// <summary>
    /// Checks "for every input FsCheck generates, <paramref name="assertion"/> holds for the body's result", each case in
    /// a child. Never throws for a falsified property: the result says what was found. Every child is reaped before the
    /// task completes.
    /// </summary>
    /// <param name="body">A static method or a lambda that captures nothing: it runs in the child.</param>
    /// <param name="assertion">Runs in this process, on each input and the body's result.</param>
    /// <param name="options">Case timeout, memory limit and the pool's settings; <see cref="IsolationOptions.Default"/> when null.</param>
    /// <param name="config">FsCheck's settings (number of tests, sizes, replay); <c>Config.Quick</c> when null. Its runner sees arguments and shrinks; the result is returned, not printed or thrown.</param>
    /// <param name="cancellationToken">Ends the running case and the cases still to run as <see cref="ChildFailure.Cancelled"/> (the running case's child is killed), so the run soon returns, falsified.</param>
    public static Task<IsolatedRun<TIn>> RunAsync<TIn, TOut>(Func<TIn, TOut> body, Func<TIn, TOut, bool> assertion, IsolationOptions? options = null, Config? config = null, CancellationToken cancellationToken = default) =>
        RunAsync<TIn, TIn, TOut>(Body.From(body), isolation => isolation.ForAll(assertion), options, config, cancellationToken);

    /// <summary>As <see cref="RunAsync{TIn,TOut}(Func{TIn,TOut}, Func{TIn,TOut,bool}, IsolationOptions?, Config?, CancellationToken)"/>, with the inputs' generator and shrinker.</summary>
    public static Task<IsolatedRun<TIn>> RunAsync<TIn, TOut>(Func<TIn, TOut> body, Arbitrary<TIn> inputs, Func<TIn, TOut, bool> assertion, IsolationOptions? options = null, Config? config = null, CancellationToken cancellationToken = default) =>
        RunAsync<TIn, TIn, TOut>(Body.From(body), isolation => isolation.ForAll(inputs, assertion), options, config, cancellationToken);

    /// <summary>
    /// Generated cases rendered to the body's input: FsCheck generates and shrinks <typeparamref name="TCase"/> (a
    /// structure, say a nesting depth), <paramref name="input"/> makes the body's input from it (the text to parse), and
    /// <paramref name="assertion"/> judges the case and the body's result. The counterexample is the shrunk case.
    /// </summary>
    public static Task<IsolatedRun<TCase>> RunAsync<TCase, TIn, TOut>(Func<TIn, TOut> body, Arbitrary<TCase> cases, Func<TCase, TIn> input, Func<TCase, TOut, bool> assertion, IsolationOptions? options = null, Config? config = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(assertion);
        return RunCoreAsync(Body.From(body), isolation => Prop.ForAll(cases, (TCase @case) => isolation.Case(input(@case), (_, result) => assertion(@case, result))), input, options, config, cancellationToken);
    }

    /// <summary>
    /// The general form: <paramref name="property"/> builds the property from the isolation (<c>Prop.ForAll(cases,
    /// c =&gt; isolation.Case(…))</c>, or F#'s <c>Prop.forAll</c>); it is checked, and every child reaped, before the task
    /// completes. The counterexample is the property's first argument when it is a <typeparamref name="TCase"/>.
    /// </summary>
    public static Task<IsolatedRun<TCase>> RunAsync<TCase, TIn, TOut>(Body<TIn, TOut> body, Func<Isolation<TIn, TOut>, Property> property, IsolationOptions? options = null, Config? config = null, CancellationToken cancellationToken = default) =>
        RunCoreAsync<TCase, TIn, TOut>(body, property, null, options, config, cancellationToken);

    private static async Task<IsolatedRun<TCase>> RunCoreAsync<TCase, TIn, TOut>(Body<TIn, TOut> body, Func<Isolation<TIn, TOut>, Property> property, Func<TCase, TIn>? input, IsolationOptions? options, Config? config, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(property);
        var isolation = new Isolation<TIn, TOut>(body, options);
        await using (isolation.ConfigureAwait(false))
        {
            var built = property(isolation);
            var runner = new CapturingRunner((config ?? Config.Quick).Runner);
            var checkedConfig = (config ?? Config.Quick).WithRunner(runner);
            isolation.StopCasesWith(cancellationToken);
            // FsCheck runs the cases synchronously, each blocking on its child: on a thread of its own, not the pool's.
            await Task.Factory.StartNew(() => Check.One(checkedConfig, built), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).ConfigureAwait(false);
            await isolation.DisposeAsync().ConfigureAwait(false);
            return Describe(runner, isolation, input);
        }
    }

    /// <summary>As the matching <c>RunAsync</c>, but a falsified property throws <see cref="IsolatedPropertyException"/> with FsCheck's report: for a test that should pass.</summary>
    /// <exception cref="IsolatedPropertyException">The property was falsified (or FsCheck gave up on it).</exception>
    public static async Task CheckAsync<TIn, TOut>(Func<TIn, TOut> body, Func<TIn, TOut, bool> assertion, IsolationOptions? options = null, Config? config = null, CancellationToken cancellationToken = default) =>
        ThrowUnlessPassed(await RunAsync(body, assertion, options, config, cancellationToken).ConfigureAwait(false));

    /// <summary>As <see cref="CheckAsync{TIn,TOut}(Func{TIn,TOut}, Func{TIn,TOut,bool}, IsolationOptions?, Config?, CancellationToken)"/>, with the inputs' generator and shrinker.</summary>
    /// <exception cref="IsolatedPropertyException">The property was falsified (or FsCheck gave up on it).</exception>
    public static async Task CheckAsync<TIn, TOut>(Func<TIn, TOut> body, Arbitrary<TIn> inputs, Func<TIn, TOut, bool> assertion, IsolationOptions? options = null, Config? config = null, CancellationToken cancellationToken = default) =>
        ThrowUnlessPassed(await RunAsync(body, inputs, assertion, options, config, cancellationToken).ConfigureAwait(false));

    /// <summary>As the matching <c>RunAsync</c> (cases rendered to the body's input), but a falsified property throws.</summary>
    /// <exception cref="IsolatedPropertyException">The property was falsified (or FsCheck gave up on it).</exception>
    public static async Task CheckAsync<TCase, TIn, TOut>(Func<TIn, TOut> body, Arbitrary<TCase> cases, Func<TCase, TIn> input, Func<TCase, TOut, bool> assertion, IsolationOptions? options = null, Config? config = null, CancellationToken cancellationToken = default) =>
        ThrowUnlessPassed(await RunAsync(body, cases, input, assertion, options, config, cancellationToken).ConfigureAwait(false));

    /// <summary>As the general <c>RunAsync</c> (a property built from the isolation), but a falsified property throws.</summary>
    /// <exception cref="IsolatedPropertyException">The property was falsified (or FsCheck gave up on it).</exception>
    public static async Task CheckAsync<TIn, TOut>(Body<TIn, TOut> body, Func<Isolation<TIn, TOut>, Property> property, IsolationOptions? options = null, Config? config = null, CancellationToken cancellationToken = default) =>
        ThrowUnlessPassed(await RunAsync<object, TIn, TOut>(body, property, options, config, cancellationToken).ConfigureAwait(false));

    private static void ThrowUnlessPassed<TCase>(IsolatedRun<TCase> run)
    {
        if (!run.Passed)
            throw new IsolatedPropertyException(run.Report);
    }

    private static IsolatedRun<TCase> Describe<TCase, TIn, TOut>(CapturingRunner runner, Isolation<TIn, TOut> isolation, Func<TCase, TIn>? input)
    {
        var result = runner.Result ?? throw new InvalidOperationException("FsCheck finished without a result.");
        var report = Runner.onFinishedToString(runner.Name, result);
        var run = new IsolatedRun<TCase>
        {
            Passed = result.IsPassed,
            Falsified = result.IsFailed,
            Report = report,
            ProcessIds = isolation.ProcessIds,
            Spawns = isolation.Spawns,
            Cases = isolation.Cases,
        };
        return result switch
        {
            TestResult.Failed failed => run with
            {
                Counterexample = failed.Item3.IsEmpty ? default! : failed.Item3.Head is TCase shrunk ? shrunk : default!,
                Original = failed.Item2.IsEmpty ? default! : failed.Item2.Head is TCase original ? original : default!,
                Failure = failed.Item3.IsEmpty ? null : isolation.FailureOf(input is not null && failed.Item3.Head is TCase @case ? input(@case) : failed.Item3.Head),
                Labels = [.. failed.Item1.Labels],
                Tests = failed.Item1.NumberOfTests,
                Shrinks = failed.Item1.NumberOfShrinks,
                Replay = new Replay(failed.Item6, FSharpOption<int>.Some(failed.Item7)),
            },
            TestResult.Passed passed => run with { Tests = passed.Item1.NumberOfTests },
            TestResult.Exhausted exhausted => run with { Tests = exhausted.Item.NumberOfTests },
            _ => run,
        };
    }
}
