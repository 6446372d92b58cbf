using FsCheck;
using Xunit.Abstractions;
using FsCheck.Fluent;
using Nursery;
using Nursery.Testing;
using TinyParser;

namespace ParserProperties;

/// <summary>
/// The parser's properties, each case run in a child process. Both bugs end the process that parses (a stack
/// overflow cannot be caught in .NET, and a hang has to be killed), so each property is expected to be falsified: the
/// tests assert what FsCheck found, through the run's result, and that the test process carries on.
/// </summary>
public sealed class IsolatedParserProperties(ITestOutputHelper output)
{
    // Parsing a short text takes microseconds, and a fresh child's first case some milliseconds: a case still running
    // after two seconds is a hang, even on a loaded machine. Shrinking a hang costs this much per candidate that still hangs.
    private static readonly IsolationOptions Options = IsolationOptions.Default.WithCaseTimeout(TimeSpan.FromSeconds(2));

    // How deep the stack goes depends on the size of each frame, which the JIT's tiers change as a child warms up: the
    // children compile each method once, fully optimized, so that a depth overflows in every child or in none.
    // Levels of nesting, a few times more stack than the random offset of a process's stack moves.
    private const int Jitter = 64;

    private static readonly IsolationOptions FixedFrames = Options with
    {
        Worker = Options.Worker with { Environment = new Dictionary<string, string> { ["DOTNET_TieredCompilation"] = "0" } },
    };

    [Fact]
    public async Task Deep_nesting_is_falsified_by_a_stack_overflow_shrunk_to_the_minimal_depth()
    {
        var run = await Isolated.RunAsync(Parser.Parse, Documents.Nested, nested => nested.Text(), (nested, parsed) => parsed.Ok && parsed.Depth == nested.Depth, FixedFrames).WaitAsync(TimeSpan.FromMinutes(4));
        output.WriteLine(run.Report);

        Assert.True(run.Falsified, run.Report);
        var crash = Assert.IsType<ChildFailure.Crashed>(run.Failure);
        Assert.Equal(6, crash.Signal.IfNone(0));
        Assert.Contains(crash.StderrTail, line => line.Contains("TinyParser.Parser.List", StringComparison.Ordinal));
        Assert.Contains(run.Labels, label => label.Contains("SIGABRT", StringComparison.Ordinal) && label.Contains("TinyParser.Parser.List", StringComparison.Ordinal));
        // Where the stack ends moves by a few kilobytes from one process to the next (the kernel places the main
        // thread's stack at a random offset), so the deepest nesting that parses differs by a level or two between
        // children: the shrunk depth is the smallest seen in this run, checked against children that did not run it.
        var depth = run.Counterexample!.Depth;
        Assert.InRange(depth, 1, run.Original!.Depth);
        await using (var isolation = Isolated.Start<string, Parsed>(Parser.Parse, FixedFrames))
        {
            var shallower = await isolation.InvokeAsync(new Nested(depth - Jitter).Text()).WaitAsync(TimeSpan.FromMinutes(1));
            var deeper = await isolation.InvokeAsync(new Nested(depth + Jitter).Text()).WaitAsync(TimeSpan.FromMinutes(1));

            Assert.Equal(depth - Jitter, shallower.Match(parsed => parsed.Depth, failure => throw failure.ToException()));
            Assert.IsType<ChildFailure.Crashed>(deeper.Match(_ => null, failure => failure));
            await AssertGoneAfterAsync(isolation);
        }
        AssertGone(run.ProcessIds);
    }

    [Fact]
    public async Task A_backslash_at_the_end_of_the_text_is_falsified_as_a_hang_shrunk_to_that_one_character()
    {
        var run = await Isolated.RunAsync(Parser.Parse, Documents.CutDocuments, (text, parsed) => true, Options).WaitAsync(TimeSpan.FromMinutes(4));
        output.WriteLine(run.Report);

        Assert.True(run.Falsified, run.Report);
        Assert.Equal("\\", run.Counterexample);
        var hang = Assert.IsType<ChildFailure.TimedOut>(run.Failure);
        Assert.Equal(TimeoutKind.ItemDeadline, hang.Limit);
        Assert.Contains(run.Labels, label => label.Contains("TimedOut", StringComparison.Ordinal));
        Assert.NotNull(run.Replay);
        AssertGone(run.ProcessIds);
    }

    [Fact]
    public async Task After_a_falsified_isolated_property_the_next_one_runs_in_the_same_test_process()
    {
        var crashed = await Isolated.RunAsync(Parser.Parse, Documents.Nested, nested => nested.Text(), (nested, parsed) => parsed.Ok, Options).WaitAsync(TimeSpan.FromMinutes(4));
        var shallow = await Isolated.RunAsync(Parser.Parse, Documents.Shallow, nested => nested.Text(), (nested, parsed) => parsed.Ok && parsed.Depth == nested.Depth, Options).WaitAsync(TimeSpan.FromMinutes(2));

        Assert.True(crashed.Falsified, crashed.Report);
        Assert.True(shallow.Passed, shallow.Report);
        Assert.Equal(1, shallow.Spawns);
        Assert.Equal(100, shallow.Tests);
        AssertGone(crashed.ProcessIds, shallow.ProcessIds);
    }

    [Fact]
    public async Task A_property_built_with_Prop_ForAll_and_Case_reports_the_same_hang()
    {
        var run = await Isolated.RunAsync<string, string, Parsed>(
            Body.From<string, Parsed>(Parser.Parse),
            isolation => Prop.ForAll(Documents.CutDocuments, text => isolation.Case(text, (_, parsed) => parsed.Ok || parsed.Error is not null)),
            Options,
            Config.Quick.WithMaxTest(200)
        ).WaitAsync(TimeSpan.FromMinutes(4));

        Assert.True(run.Falsified, run.Report);
        Assert.Equal("\\", run.Counterexample);
        Assert.IsType<ChildFailure.TimedOut>(run.Failure);
        AssertGone(run.ProcessIds);
    }

    private static async Task AssertGoneAfterAsync<TIn, TOut>(Isolation<TIn, TOut> isolation)
    {
        var pids = isolation.ProcessIds;
        await isolation.DisposeAsync();
        AssertGone(pids);
    }

    private static void AssertGone(params IReadOnlyCollection<int>[] pidSets)
    {
        foreach (var pid in pidSets.SelectMany(pids => pids))
            Assert.False(Directory.Exists($"/proc/{pid}"), $"child {pid} is still there");
    }
}
