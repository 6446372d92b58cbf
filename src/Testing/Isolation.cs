using System.Globalization;
using FsCheck;
using FsCheck.Fluent;
using LanguageExt;

namespace Nursery.Testing;

/// <summary>
/// A body kept in supervised children for the run of a property: each case's input goes to a child, the body runs
/// there, and its result comes back to the assertion, which runs in this process. A child that crashes, overflows its
/// stack, runs out of memory, hangs past the case timeout or breaks the protocol falsifies the case with the failure as
/// its label; the child is replaced for the next case. Dispose it when the property has run: every child is then
/// reaped. <see cref="Isolated.RunAsync{TIn,TOut}(Func{TIn,TOut}, Func{TIn,TOut,bool}, IsolationOptions?, Config?, CancellationToken)"/>
/// does all of this for one property.
/// </summary>
public sealed class Isolation<TIn, TOut> : IAsyncDisposable
{
    private readonly WorkerPool<TIn, TOut> _pool;
    private readonly IsolationOptions _options;
    private readonly TimeSpan _caseBound;
    private readonly Lock _gate = new();
    private int _cases;
    private (object? Input, ChildFailure? Failure)? _lastFalsified;
    private CancellationToken _stop;

    /// <summary>Starts nothing yet: the first child starts with the first case.</summary>
    /// <exception cref="ArgumentException">An option is out of range (the message names it).</exception>
    public Isolation(Body<TIn, TOut> body, IsolationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(body);
        _options = (IsolationOptions)(options ?? new IsolationOptions()).Validate();
        _pool = new WorkerPool<TIn, TOut>(body, _options with { StartEagerly = false });
        // The pool answers every case by itself (result, failure or TimedOut); this bound only guards against a bug.
        var worker = _options.Worker;
        _caseBound = worker.StartTimeout + worker.ItemTimeout + (worker.HeartbeatTimeout == Timeout.InfiniteTimeSpan ? TimeSpan.Zero : worker.HeartbeatTimeout) + worker.KillGrace + TimeSpan.FromSeconds(30);
    }

    /// <summary>The options in force.</summary>
    public IsolationOptions Options => _options;

    /// <summary>Every child process started so far (all of them are gone once <see cref="DisposeAsync"/> has returned).</summary>
    public IReadOnlyCollection<int> ProcessIds => _pool.ProcessIds;

    /// <summary>How many children have been started: 1 plus one per child replaced after a failure.</summary>
    public int Spawns => _pool.Spawns;

    /// <summary>How many cases have run (shrinking candidates included).</summary>
    public int Cases => Volatile.Read(ref _cases);

    /// <summary>Runs the body on <paramref name="input"/> in a child; completes with its result or its failure, never throws for what the child does.</summary>
    public Task<Either<ChildFailure, TOut>> InvokeAsync(TIn input, CancellationToken cancellationToken = default)
    {
        var number = Interlocked.Increment(ref _cases);
        return _pool.InvokeAsync(input, "case " + number.ToString(CultureInfo.InvariantCulture), cancellationToken: cancellationToken);
    }

    /// <summary>
    /// One case: runs the body on <paramref name="input"/> in a child, then <paramref name="assertion"/> on the result
    /// here. The case is falsified when the assertion returns false, or when the child fails (the label is then the
    /// failure's report: its kind, exit status or signal, stderr tail, and the remote stack trace of a throw).
    /// </summary>
    public Property Case(TIn input, Func<TIn, TOut, bool> assertion)
    {
        ArgumentNullException.ThrowIfNull(assertion);
        return Run(input).Match(
            result =>
            {
                if (assertion(input, result))
                    return Prop.ToProperty(true);
                Falsified(input, null);
                return Prop.Label(false, "the assertion returned false for the body's result " + Describe(result));
            },
            failure => Falsify(input, failure)
        );
    }

    /// <summary>As <see cref="Case(TIn, Func{TIn,TOut,bool})"/>, with an assertion that throws to falsify (xunit's <c>Assert</c>).</summary>
    public Property Case(TIn input, Action<TIn, TOut> assertion)
    {
        ArgumentNullException.ThrowIfNull(assertion);
        return Run(input).Match(
            result =>
            {
                try
                {
                    assertion(input, result);
                    return Prop.ToProperty(true);
                }
                catch (Exception exception)
                {
                    Falsified(input, null);
                    var thrown = System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(exception);
                    Action rethrow = thrown.Throw;
                    return Prop.Label(Prop.ToProperty(rethrow), "the assertion threw for the body's result " + Describe(result));
                }
            },
            failure => Falsify(input, failure)
        );
    }

    /// <summary>As <see cref="Case(TIn, Func{TIn,TOut,bool})"/>, with an assertion that is itself a property (labels, <c>And</c>, <c>Classify</c>).</summary>
    public Property Case(TIn input, Func<TIn, TOut, Property> assertion)
    {
        ArgumentNullException.ThrowIfNull(assertion);
        return Run(input).Match(result => assertion(input, result), failure => Falsify(input, failure));
    }

    /// <summary>The property "for all inputs from <paramref name="inputs"/>, the body's result satisfies <paramref name="assertion"/>", each case isolated.</summary>
    public Property ForAll(Arbitrary<TIn> inputs, Func<TIn, TOut, bool> assertion) => Prop.ForAll(inputs, (TIn input) => Case(input, assertion));

    /// <summary>As <see cref="ForAll(Arbitrary{TIn}, Func{TIn,TOut,bool})"/>, with an assertion that throws to falsify.</summary>
    public Property ForAll(Arbitrary<TIn> inputs, Action<TIn, TOut> assertion) => Prop.ForAll(inputs, (TIn input) => Case(input, assertion));

    /// <summary>As <see cref="ForAll(Arbitrary{TIn}, Func{TIn,TOut,bool})"/>, with FsCheck's default generator and shrinker for <typeparamref name="TIn"/>.</summary>
    public Property ForAll(Func<TIn, TOut, bool> assertion) => ForAll(ArbMap.Default.ArbFor<TIn>(), assertion);

    /// <summary>The child's failure for the last falsified case, when that case was <paramref name="input"/> and a child failure falsified it.</summary>
    internal ChildFailure? FailureOf(object? input)
    {
        lock (_gate)
            return _lastFalsified is { } last && (ReferenceEquals(last.Input, input) || Equals(last.Input, input)) ? last.Failure : null;
    }

    /// <summary>Kills every child (closing stdin first) and returns once all are reaped.</summary>
    public ValueTask DisposeAsync() => _pool.DisposeAsync();

    /// <summary>Cases run after <paramref name="stop"/> is cancelled end at once as <see cref="ChildFailure.Cancelled"/> (a running one's child is killed).</summary>
    internal void StopCasesWith(CancellationToken stop) => _stop = stop;

    private Either<ChildFailure, TOut> Run(TIn input) =>
        // FsCheck evaluates a case synchronously; the pool answers within the case timeout, and the bound is a backstop.
        InvokeAsync(input, _stop).WaitAsync(_caseBound).GetAwaiter().GetResult();

    private Property Falsify(TIn input, ChildFailure failure)
    {
        Falsified(input, failure);
        return Prop.Label(false, "the body failed in its child process: " + failure);
    }

    private void Falsified(TIn input, ChildFailure? failure)
    {
        lock (_gate)
            _lastFalsified = (input, failure);
    }

    private static string Describe(TOut result) =>
        result switch
        {
            null => "null",
            string text => '"' + text + '"',
            _ => result.ToString() ?? "",
        };
}
