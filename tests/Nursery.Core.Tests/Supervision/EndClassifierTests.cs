using LanguageExt;
using Nursery.Launch;
using Nursery.Supervision;

namespace Nursery.Tests.Supervision;

/// <summary>The end classifier's table: every way a child ends, and the failure its items get.</summary>
public sealed class EndClassifierTests
{
    private static readonly MemoryFacts NoOomKill = new(256 << 20, 0, Option<long>.None);
    private static readonly MemoryFacts OomKilled = new(256 << 20, 1, 300L << 20);
    private static readonly ChildFailure Deadline = new ChildFailure.TimedOut(TimeoutKind.ItemDeadline, TimeSpan.FromSeconds(2));
    private static readonly ChildFailure Violation = new ChildFailure.ProtocolViolation("garbage on stdout", [0x41]);
    private static readonly ChildFailure NotReadyInTime = new ChildFailure.StartFailed("the child was not ready within 30 s");

    /// <summary>One row: the facts at the child's end, and the kind and words its failure must have.</summary>
    private sealed record Row(string Name, ChildExit Exit, MemoryFacts? Memory, ChildFailure? FirstCause, bool Disposing, bool WasReady, int InFlight, FailureKind Kind, string Says);

    private static readonly Row[] Table =
        [
            new Row("exit 0 with items in flight", new(0, false), null, null, false, true, 3, FailureKind.Crashed, "exited by itself with 3 items unanswered"),
            new Row("exit code 3", new(3, false), null, null, false, true, 1, FailureKind.Crashed, "exited with code 3"),
            new Row("signal 9, OOM kill count up", new(137, false), OomKilled, null, false, true, 1, FailureKind.OutOfMemory, "OOM killer"),
            new Row("signal 9, cgroup saw no OOM kill", new(137, false), NoOomKill, null, false, true, 1, FailureKind.Crashed, "the memory cgroup saw no OOM kill"),
            new Row("signal 9 without a cgroup", new(137, false), null, null, false, true, 1, FailureKind.Crashed, "possibly out of memory"),
            new Row("signal 11", new(139, false), null, null, false, true, 1, FailureKind.Crashed, "signal 11"),
            new Row("killed by the parent for a deadline", new(137, true), NoOomKill, Deadline, false, true, 1, FailureKind.TimedOut, "deadline"),
            new Row("protocol violation as first cause", new(137, true), null, Violation, false, true, 2, FailureKind.ProtocolViolation, "garbage on stdout"),
            new Row("start timeout as first cause", new(137, true), null, NotReadyInTime, false, false, 0, FailureKind.StartFailed, "not ready within"),
            new Row("crash before ready", new(1, false), null, null, false, false, 0, FailureKind.StartFailed, "the child ended before it was ready"),
            new Row("OOM kill before ready", new(137, false), OomKilled, null, false, false, 0, FailureKind.StartFailed, "the child ended before it was ready"),
            new Row("disposed, whatever the exit", new(137, true), OomKilled, Deadline, true, true, 1, FailureKind.Cancelled, "the worker was disposed"),
            new Row("remote launcher's verdict", new ChildExit(1, false) { Verdict = new ChildFailure.StartFailed("Slurm has no capacity") }, null, null, false, true, 0, FailureKind.StartFailed, "Slurm has no capacity"),
        ];

    public static TheoryData<string> Rows => [.. Table.Select(row => row.Name)];

    [Theory]
    [MemberData(nameof(Rows))]
    public void A_childs_end_is_classified_from_its_exit_its_cgroup_and_the_first_cause(string name)
    {
        var row = Table.Single(row => row.Name == name);

        var failure = EndClassifier.Classify(row.Exit, row.Memory, row.FirstCause, row.Disposing, row.WasReady, row.InFlight);

        Assert.Equal(row.Kind, failure.Kind);
        Assert.Contains(row.Says, failure.Summary, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void An_oom_kill_carries_the_cgroups_limit_and_peak()
    {
        var failure = EndClassifier.Classify(new ChildExit(137, false), OomKilled, null, false, true, 1);

        var oom = Assert.IsType<ChildFailure.OutOfMemory>(failure);
        Assert.Equal(256L << 20, oom.LimitBytes);
        Assert.Equal(Option<long>.Some(300L << 20), oom.PeakBytes);
    }

    [Fact]
    public void A_disposed_worker_ends_its_items_as_started_cancellations()
    {
        var failure = EndClassifier.Classify(new ChildExit(0, false), null, null, true, false, 2);

        var cancelled = Assert.IsType<ChildFailure.Cancelled>(failure);
        Assert.True(cancelled.ItemStarted);
    }
}
