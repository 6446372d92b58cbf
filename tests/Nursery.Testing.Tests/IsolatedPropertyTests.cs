using FsCheck;
using FsCheck.Fluent;
using Microsoft.FSharp.Core;
using Nursery.TestBodies;
using Nursery.Tests.Support;

namespace Nursery.Testing.Tests;

/// <summary>Isolated properties over bodies that misbehave from one input on: each failure falsifies the case, shrunk to that input.</summary>
public sealed class IsolatedPropertyTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(3);
    private static readonly IsolationOptions Options = IsolationOptions.Default.WithCaseTimeout(TimeSpan.FromSeconds(5));
    private static readonly Arbitrary<int> Naturals = Arb.From(Gen.Choose(0, 200), ArbMap.Default.ArbFor<int>().Shrinker);

    [Fact]
    public async Task A_passing_property_runs_every_case_in_one_reused_child()
    {
        var run = await Isolated.RunAsync<int, int>(Bodies.Double, (x, doubled) => doubled == 2 * x, Options).WaitAsync(Bound);

        Assert.True(run.Passed, run.Report);
        Assert.False(run.Falsified);
        Assert.Equal(100, run.Tests);
        Assert.Equal(100, run.Cases);
        Assert.Equal(1, run.Spawns);
        Assert.Null(run.Failure);
        await Processes.AssertAllGoneAsync(run.ProcessIds);
    }

    [Fact]
    public async Task A_crash_falsifies_the_case_and_is_shrunk_to_the_smallest_input_that_crashes()
    {
        var run = await Isolated.RunAsync<int, int>(PropertyBodies.ExitFrom37, Naturals, (x, result) => result == x, Options).WaitAsync(Bound);

        Assert.True(run.Falsified, run.Report);
        Assert.Equal(PropertyBodies.CrashFrom, run.Counterexample);
        var crash = Assert.IsType<ChildFailure.Crashed>(run.Failure);
        Assert.Equal(3, crash.ExitCode);
        Assert.Contains(run.Labels, label => label.Contains("Crashed: the child exited with code 3", StringComparison.Ordinal));
        Assert.True(run.Spawns > 1, $"{run.Spawns} spawns: the crashed child was not replaced");
        Assert.Contains("Shrunk:", run.Report, StringComparison.Ordinal);
        await Processes.AssertAllGoneAsync(run.ProcessIds);
    }

    [Fact]
    public async Task A_throw_is_labelled_with_the_remote_type_message_and_stack_trace()
    {
        var run = await Isolated.RunAsync<int, int>(PropertyBodies.ThrowFrom20, Naturals, (x, result) => result == x, Options).WaitAsync(Bound);

        Assert.True(run.Falsified, run.Report);
        Assert.Equal(PropertyBodies.ThrowFrom, run.Counterexample);
        var fault = Assert.IsType<ChildFailure.Faulted>(run.Failure);
        Assert.Equal("20 is too large", fault.Error.Message);
        var label = Assert.Single(run.Labels);
        Assert.Contains("System.InvalidOperationException", label, StringComparison.Ordinal);
        Assert.Contains("PropertyBodies.ThrowFrom20", label, StringComparison.Ordinal);
        Assert.Equal(1, run.Spawns);
        await Processes.AssertAllGoneAsync(run.ProcessIds);
    }

    [Fact]
    public async Task A_case_that_runs_past_the_case_timeout_is_killed_and_falsified_as_TimedOut()
    {
        var options = IsolationOptions.Default.WithCaseTimeout(TimeSpan.FromSeconds(2));

        var run = await Isolated.RunAsync<int, int>(PropertyBodies.HangFrom30, Naturals, (x, result) => result == x, options).WaitAsync(Bound);

        Assert.True(run.Falsified, run.Report);
        Assert.Equal(PropertyBodies.HangFrom, run.Counterexample);
        var hang = Assert.IsType<ChildFailure.TimedOut>(run.Failure);
        Assert.Equal(TimeoutKind.ItemDeadline, hang.Limit);
        Assert.Equal(TimeSpan.FromSeconds(2), hang.LimitValue);
        await Processes.AssertAllGoneAsync(run.ProcessIds);
    }

    [Fact]
    public async Task A_stack_overflow_is_falsified_as_a_crash_by_SIGABRT_with_the_recursion_in_its_label()
    {
        var run = await Isolated.RunAsync<int, int>(Bodies.StackOverflow, Naturals, (x, result) => true, Options).WaitAsync(Bound);

        Assert.True(run.Falsified, run.Report);
        Assert.Equal(0, run.Counterexample);
        var crash = Assert.IsType<ChildFailure.Crashed>(run.Failure);
        Assert.Equal(6, crash.Signal.IfNone(0));
        Assert.Contains(run.Labels, label => label.Contains("Bodies.Recurse", StringComparison.Ordinal));
        await Processes.AssertAllGoneAsync(run.ProcessIds);
    }

    [Fact]
    public async Task Garbage_on_the_protocol_channel_is_falsified_as_a_ProtocolViolation()
    {
        var run = await Isolated.RunAsync<int, int>(Bodies.Garbage, Naturals, (x, result) => true, Options).WaitAsync(Bound);

        Assert.True(run.Falsified, run.Report);
        Assert.IsType<ChildFailure.ProtocolViolation>(run.Failure);
        Assert.Contains(run.Labels, label => label.Contains("ProtocolViolation", StringComparison.Ordinal));
        await Processes.AssertAllGoneAsync(run.ProcessIds);
    }

    [MemoryCgroupFact]
    public async Task An_allocation_past_the_memory_limit_is_falsified_as_OutOfMemory()
    {
        var options = IsolationOptions.Default.WithMemoryLimit(96 << 20).WithCaseTimeout(TimeSpan.FromSeconds(20));
        var mebibytes = Arb.From(Gen.Choose(0, 400), ArbMap.Default.ArbFor<int>().Shrinker);

        var run = await Isolated.RunAsync<int, int>(Bodies.Allocate, mebibytes, (asked, held) => held == asked, options).WaitAsync(Bound);

        Assert.True(run.Falsified, run.Report);
        var oom = Assert.IsType<ChildFailure.OutOfMemory>(run.Failure);
        Assert.Equal(96 << 20, oom.LimitBytes);
        Assert.InRange(run.Counterexample, 1, 96);
        await Processes.AssertAllGoneAsync(run.ProcessIds);
    }

    [Fact]
    public async Task An_assertion_that_returns_false_falsifies_the_case_with_the_result_in_its_label_and_no_failure()
    {
        var run = await Isolated.RunAsync<int, int>(Bodies.Double, Naturals, (x, doubled) => doubled < 50, Options).WaitAsync(Bound);

        Assert.True(run.Falsified, run.Report);
        Assert.Equal(25, run.Counterexample);
        Assert.Null(run.Failure);
        Assert.Contains("the assertion returned false for the body's result 50", run.Labels);
        await Processes.AssertAllGoneAsync(run.ProcessIds);
    }

    [Fact]
    public async Task The_replay_seed_finds_the_same_counterexample_again()
    {
        var first = await Isolated.RunAsync<int, int>(PropertyBodies.ExitFrom37, Naturals, (x, result) => result == x, Options).WaitAsync(Bound);

        var again = await Isolated.RunAsync<int, int>(PropertyBodies.ExitFrom37, Naturals, (x, result) => result == x, Options, Config.Quick.WithReplay(FSharpOption<Replay>.Some(first.Replay!))).WaitAsync(Bound);

        Assert.True(again.Falsified, again.Report);
        Assert.Equal(1, again.Tests);
        Assert.Equal(first.Original, again.Original);
        Assert.Equal(first.Counterexample, again.Counterexample);
        await Processes.AssertAllGoneAsync(first.ProcessIds, again.ProcessIds);
    }

    [Fact]
    public async Task CheckAsync_throws_the_report_for_a_falsified_property_and_returns_for_a_passing_one()
    {
        var failing = await Assert.ThrowsAsync<IsolatedPropertyException>(() => Isolated.CheckAsync<int, int>(PropertyBodies.ThrowFrom20, Naturals, (x, result) => result == x, Options).WaitAsync(Bound));
        await Isolated.CheckAsync<int, int>(Bodies.Double, (x, doubled) => doubled == 2 * x, Options).WaitAsync(Bound);

        Assert.Contains("Shrunk:", failing.Message, StringComparison.Ordinal);
        Assert.Contains("20", failing.Message, StringComparison.Ordinal);
        Assert.Matches(@"Falsifiable, after \d+ tests? \(\d+ shrinks?\) \(\d+,\d+\)", failing.Message);
    }

    [Fact]
    public async Task An_isolation_used_with_Prop_ForAll_and_Check_keeps_its_children_until_disposed()
    {
        var isolation = Isolated.Start<int, int>(PropertyBodies.ExitFrom37, Options);
        IReadOnlyCollection<int> pids;
        await using (isolation)
        {
            var property = Prop.ForAll(Naturals, x => isolation.Case(x, (input, result) => Assert.Equal(input, result)));

            var thrown = Record.Exception(() => Check.One(Config.QuickThrowOnFailure.WithMaxTest(50), property));

            Assert.NotNull(thrown);
            Assert.Contains("Crashed", thrown.Message, StringComparison.Ordinal);
            pids = isolation.ProcessIds;
            Assert.Contains(pids, Processes.IsAlive);
        }
        await Processes.AssertAllGoneAsync(pids);
    }

    [Fact]
    public async Task Cancelling_a_run_ends_its_cases_as_Cancelled_and_returns_with_every_child_gone()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        var slowCases = Arb.From(Gen.Constant(400));

        var run = await Isolated.RunAsync<int, int>(Bodies.SleepMilliseconds, slowCases, (x, slept) => slept == x, Options, Config.Quick.WithMaxTest(1000), cancel.Token).WaitAsync(Bound);

        Assert.True(run.Falsified, run.Report);
        Assert.IsType<ChildFailure.Cancelled>(run.Failure);
        Assert.InRange(run.Cases, 1, 50);
        await Processes.AssertAllGoneAsync(run.ProcessIds);
    }

    [Fact]
    public void A_case_timeout_that_never_ends_is_refused_with_what_to_do()
    {
        var options = IsolationOptions.Default.WithCaseTimeout(Timeout.InfiniteTimeSpan);

        var refused = Assert.Throws<ArgumentException>(() => Isolated.Start<int, int>(Bodies.Double, options));

        Assert.Contains("WithCaseTimeout", refused.Message, StringComparison.Ordinal);
    }
}
