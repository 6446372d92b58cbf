namespace Nursery.Dataflow.Tests.Plumbing.Runs;

/// <summary>The abort state in-process (no child involved): the first abort wins, and the blocks are stopped exactly once it and the start have both happened.</summary>
public sealed class AbortStateTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task The_first_abort_wins_and_cancels_the_token()
    {
        var abort = new AbortState();
        var crashed = new ChildFailure.Crashed(137, 9, "") { Stage = "stage", Key = "7" };

        Assert.Equal(("", AbortCause.None), abort.Outcome);
        abort.TryAbort("Crashed of item 7", crashed, AbortCause.Failure);
        abort.TryAbort("the run's deadline passed", null, AbortCause.Deadline);
        await abort.Aborted.WaitAsync(Bound);
        await Task.Delay(Timeout.InfiniteTimeSpan, abort.Token).ContinueWith(_ => { }, TaskScheduler.Default).WaitAsync(Bound);

        Assert.True(abort.IsAborted);
        Assert.True(abort.Token.IsCancellationRequested);
        Assert.Equal(("Crashed of item 7", AbortCause.Failure), abort.Outcome);
        Assert.Equal(crashed, abort.Failure.IfNone(() => throw new InvalidOperationException("no failure kept")));
    }

    [Fact]
    public void An_abort_before_the_blocks_start_is_seen_by_the_start_and_one_after_by_the_abort()
    {
        var early = new AbortState();
        Assert.False(early.TryAbort("the scope was disposed", null, AbortCause.Disposed));
        Assert.True(early.BlocksStarted());

        var late = new AbortState();
        Assert.False(late.BlocksStarted());
        Assert.True(late.TryAbort("the caller cancelled the run", null, AbortCause.Caller));
        Assert.False(late.TryAbort("the scope was disposed", null, AbortCause.Disposed));
    }

    [Fact]
    public void An_item_stopped_by_the_abort_is_cancelled_naming_the_failure_or_else_the_reason()
    {
        var byFailure = new AbortState();
        var crashed = new ChildFailure.Crashed(137, 9, "") { Stage = "stage", Key = "7" };
        byFailure.TryAbort("Crashed of item 7", crashed, AbortCause.Failure);
        var byDeadline = new AbortState();
        byDeadline.TryAbort("the run's deadline of 5s passed", null, AbortCause.Deadline);

        var first = Assert.IsType<ChildFailure.Cancelled>(byFailure.AbortedFailure("sink", "3", 2, itemStarted: true));
        var second = Assert.IsType<ChildFailure.Cancelled>(byDeadline.AbortedFailure("sink", "4", 1, itemStarted: false));

        Assert.Equal(("sink", "3", 2, true), (first.Stage, first.Key, first.Attempt, first.ItemStarted));
        Assert.Equal(crashed, first.Cause.IfNone(() => throw new InvalidOperationException("no cause")));
        Assert.Contains("the run's deadline of 5s passed", second.Reason, StringComparison.Ordinal);
        Assert.True(second.Cause.IsNone);
    }

    [Fact]
    public async Task A_wait_before_a_retry_ends_early_when_the_run_aborts()
    {
        var abort = new AbortState();
        var waiting = abort.DelayAsync(TimeSpan.FromMinutes(10));

        abort.TryAbort("the caller cancelled the run", null, AbortCause.Caller);

        Assert.False(await waiting.WaitAsync(Bound));
        Assert.False(await abort.DelayAsync(TimeSpan.Zero));
    }
}
