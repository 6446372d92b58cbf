using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Nursery.TestBodies;
using Nursery.Tests.Support;

namespace Nursery.Tests.Supervision;

/// <summary>
/// Bodies that take a cancellation token: the parent asks the child to stop an item (a Stop frame) before it kills, and
/// kills after the kill grace only a body that does not stop. Real children; every pid checked gone at the end.
/// </summary>
public sealed class StopTests
{
    private static readonly TimeSpan Bound = Children.Bound;

    /// <summary>A grace long enough that a body which honours its token always stops within it, even on a loaded machine.</summary>
    private static WorkerOptions Patient(TimeSpan itemTimeout) => Children.Options("stop") with { ItemTimeout = itemTimeout, KillGrace = TimeSpan.FromSeconds(20) };

    [Fact]
    public async Task A_body_that_honours_its_token_stops_at_the_item_deadline_and_its_child_serves_the_next_item()
    {
        await using var children = new Children();
        var worker = await children.StartAsync(Body.From<int, int>(StoppableBodies.DoubleOrWaitForStop), Patient(TimeSpan.FromMilliseconds(500)));
        var pid = worker.ProcessId;

        var failure = EitherAssert.Left<ChildFailure.TimedOut, int>(await worker.InvokeAsync(-1, "hang").WaitAsync(Bound));
        var next = await worker.InvokeAsync(21, "next").WaitAsync(Bound);

        Assert.Equal(TimeoutKind.ItemDeadline, failure.Limit);
        Assert.False(failure.ChildKilled);
        Assert.Contains("the child lives on", failure.Summary, StringComparison.Ordinal);
        Assert.Equal(pid, failure.ProcessId);
        Assert.Equal("hang", failure.Key);
        Assert.Equal(42, EitherAssert.Right(next));
        Assert.Equal(pid, worker.ProcessId);
        Assert.True(worker.IsAlive);
        Assert.True(Processes.IsAlive(pid));
    }

    [Fact]
    public async Task An_async_body_that_honours_its_token_stops_at_the_item_deadline_and_its_child_lives_on()
    {
        await using var children = new Children();
        var worker = await children.StartAsync(Body.FromAsync<int, int>(StoppableBodies.DoubleOrWaitForStopAsync), Patient(TimeSpan.FromMilliseconds(500)));

        var failure = EitherAssert.Left<ChildFailure.TimedOut, int>(await worker.InvokeAsync(-1, "hang").WaitAsync(Bound));
        var next = await worker.InvokeAsync(5, "next").WaitAsync(Bound);

        Assert.False(failure.ChildKilled);
        Assert.Equal(10, EitherAssert.Right(next));
        Assert.True(Processes.IsAlive(worker.ProcessId));
    }

    [Fact]
    public async Task A_body_that_ignores_its_token_is_killed_after_the_kill_grace_and_reported_TimedOut()
    {
        await using var children = new Children();
        var options = Children.Options("stop") with { ItemTimeout = TimeSpan.FromMilliseconds(500), KillGrace = TimeSpan.FromSeconds(1) };
        var worker = await children.StartAsync(Body.From<int, int>(StoppableBodies.DoubleOrIgnoreStop), options);

        var failure = EitherAssert.Left<ChildFailure.TimedOut, int>(await worker.InvokeAsync(-1, "hang").WaitAsync(Bound));

        Assert.Equal(TimeoutKind.ItemDeadline, failure.Limit);
        Assert.True(failure.ChildKilled);
        Assert.Equal("hang", failure.Key);
        // Asked at the deadline, killed a grace later.
        Assert.True(failure.Elapsed >= TimeSpan.FromMilliseconds(1500), $"ended after {failure.Elapsed}");
        await Processes.AssertGoneAsync(worker.ProcessId, TimeSpan.FromSeconds(5));
        Assert.False(worker.IsAlive);
    }

    [Fact]
    public async Task Cancelling_a_running_item_whose_body_honours_its_token_gives_Cancelled_and_the_child_serves_the_next_item()
    {
        await using var children = new Children();
        var worker = await children.StartAsync(Body.From<string, string>(StoppableBodies.EchoOrMarkThenWaitForStop), Patient(Timeout.InfiniteTimeSpan));
        var marker = Path.Combine(Path.GetTempPath(), $"nursery-stop-{Guid.NewGuid():N}");
        using var cancel = new CancellationTokenSource();
        try
        {
            var running = worker.InvokeAsync(marker, "long", cancellationToken: cancel.Token);
            await WaitForFileAsync(marker);

            await cancel.CancelAsync();
            var failure = EitherAssert.Left<ChildFailure.Cancelled, string>(await running.WaitAsync(Bound));
            var next = await worker.InvokeAsync("next", "next").WaitAsync(Bound);

            Assert.True(failure.ItemStarted);
            Assert.Contains("the child lives on", failure.Reason, StringComparison.Ordinal);
            Assert.Equal(worker.ProcessId, failure.ProcessId);
            Assert.Equal("next", EitherAssert.Right(next));
            Assert.True(Processes.IsAlive(worker.ProcessId));
        }
        finally
        {
            File.Delete(marker);
        }
    }

    [Fact]
    public async Task Disposing_a_worker_asks_a_running_body_to_stop_and_reaps_the_child()
    {
        await using var children = new Children();
        var worker = await children.StartAsync(Body.From<string, string>(StoppableBodies.EchoOrMarkThenWaitForStop), Patient(Timeout.InfiniteTimeSpan));
        var marker = Path.Combine(Path.GetTempPath(), $"nursery-stop-{Guid.NewGuid():N}");
        try
        {
            var running = worker.InvokeAsync(marker, "long");
            await WaitForFileAsync(marker);

            await worker.DisposeAsync().AsTask().WaitAsync(Bound);
            var failure = EitherAssert.Left<ChildFailure.Cancelled, string>(await running.WaitAsync(Bound));

            Assert.True(failure.ItemStarted);
            Assert.Contains("its body stopped", failure.Reason, StringComparison.Ordinal);
            await Processes.AssertGoneAsync(worker.ProcessId, TimeSpan.FromSeconds(5));
        }
        finally
        {
            File.Delete(marker);
        }
    }

    [Fact]
    public async Task An_item_cancelled_while_waiting_in_the_child_behind_a_stopped_one_does_not_run()
    {
        await using var children = new Children();
        var worker = await children.StartAsync(Body.From<string, string>(StoppableBodies.EchoOrMarkThenWaitForStop), Patient(Timeout.InfiniteTimeSpan) with { BatchReplies = false });
        var first = Path.Combine(Path.GetTempPath(), $"nursery-stop-{Guid.NewGuid():N}");
        var second = Path.Combine(Path.GetTempPath(), $"nursery-stop-{Guid.NewGuid():N}");
        using var cancel = new CancellationTokenSource();
        try
        {
            var running = worker.InvokeAsync(first, "first", cancellationToken: cancel.Token);
            var waiting = worker.InvokeAsync(second, "second", cancellationToken: cancel.Token);
            await WaitForFileAsync(first);

            await cancel.CancelAsync();
            var stopped = EitherAssert.Left<ChildFailure.Cancelled, string>(await running.WaitAsync(Bound));
            var dropped = EitherAssert.Left<ChildFailure.Cancelled, string>(await waiting.WaitAsync(Bound));
            var next = await worker.InvokeAsync("next", "next").WaitAsync(Bound);

            Assert.True(stopped.ItemStarted);
            Assert.False(dropped.ItemStarted);
            // The child answered the next item, so it has passed the second one: it skipped it without running the body.
            Assert.Equal("next", EitherAssert.Right(next));
            Assert.False(File.Exists(second));
        }
        finally
        {
            File.Delete(first);
            File.Delete(second);
        }
    }

    [Fact]
    public async Task MapAsync_reads_an_asynchronous_source_as_the_children_have_room_and_yields_the_results_in_order()
    {
        await using var pool = new WorkerPool<int, int>(Body.From<int, int>(Bodies.Double), new PoolOptions { Workers = 2, ItemsPerWorker = 8, Worker = Children.Options("map") });
        var channel = Channel.CreateUnbounded<int>();
        var writer = Task.Run(async () =>
        {
            for (var i = 0; i < 500; i++)
            {
                await channel.Writer.WriteAsync(i);
                if (i % 50 == 0)
                    await Task.Delay(5);
            }
            channel.Writer.Complete();
        });

        var results = new List<int>();
        await foreach (var result in pool.MapAsync(channel.Reader.ReadAllAsync()).WithCancellation(new CancellationTokenSource(Bound).Token))
            results.Add(EitherAssert.Right(result));
        await writer.WaitAsync(Bound);

        Assert.Equal(Enumerable.Range(0, 500).Select(i => i * 2), results);
        var pids = pool.ProcessIds;
        await pool.DisposeAsync().AsTask().WaitAsync(Bound);
        await Processes.AssertAllGoneAsync(pids);
    }

    [Fact]
    public async Task MapAsync_over_an_asynchronous_source_reads_no_further_ahead_than_the_children_take_while_the_reader_waits()
    {
        var options = new PoolOptions { Workers = 1, ItemsPerWorker = 4, Worker = Children.Options("map") };
        await using var pool = new WorkerPool<int, int>(Body.From<int, int>(Bodies.Double), options);
        var source = new CountingSource();

        await using (var results = pool.MapAsync(source.ReadAsync()).GetAsyncEnumerator())
        {
            Assert.True(await results.MoveNextAsync().AsTask().WaitAsync(Bound));
            Assert.Equal(0, EitherAssert.Right(results.Current));
            // The reader stops here: the pool finishes what it holds, and the source is not read further.
            await Task.Delay(1000);

            // Two batches of at most two items in flight, the batch being yielded, and one read waiting: at most 7.
            Assert.InRange(source.Given, 1, 7);
        }

        Assert.True(source.Disposed);
        var pids = pool.ProcessIds;
        await pool.DisposeAsync().AsTask().WaitAsync(Bound);
        await Processes.AssertAllGoneAsync(pids);
    }

    [Fact]
    public async Task Cancelling_MapAsync_while_an_asynchronous_source_waits_cancels_the_source_read_and_ends_the_loop()
    {
        await using var pool = new WorkerPool<int, int>(Body.From<int, int>(Bodies.Double), new PoolOptions { Workers = 1, Worker = Children.Options("map") });
        var channel = Channel.CreateUnbounded<int>();
        await channel.Writer.WriteAsync(3);
        using var cancel = new CancellationTokenSource();
        var seen = new List<int>();

        var loop = Task.Run(async () =>
        {
            await foreach (var result in pool.MapAsync(channel.Reader.ReadAllAsync(), cancel.Token))
            {
                seen.Add(EitherAssert.Right(result));
                await cancel.CancelAsync();
            }
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => loop.WaitAsync(Bound));
        Assert.Equal([6], seen);
        var pids = pool.ProcessIds;
        await pool.DisposeAsync().AsTask().WaitAsync(Bound);
        await Processes.AssertAllGoneAsync(pids);
    }

    private static async Task WaitForFileAsync(string path)
    {
        using var bound = new CancellationTokenSource(Bound);
        while (!File.Exists(path))
            await Task.Delay(20, bound.Token);
    }

    /// <summary>An endless asynchronous source that counts what it gave and whether it was disposed.</summary>
    private sealed class CountingSource
    {
        private int _given;

        public int Given => Volatile.Read(ref _given);

        public bool Disposed { get; private set; }

        public async IAsyncEnumerable<int> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            try
            {
                for (var i = 0; ; i++)
                {
                    await Task.Yield();
                    cancellationToken.ThrowIfCancellationRequested();
                    Interlocked.Increment(ref _given);
                    yield return i;
                }
            }
            finally
            {
                Disposed = true;
            }
        }
    }

    /// <summary>
    /// A child between items holds an item it was sent and has not started (it is stopped meanwhile, so it cannot start
    /// it): disposing the worker, or cancelling the item, asks the child not to run it, and the kill grace (ten minutes)
    /// is not waited out whether the child starts the item before or after the request reaches it.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task An_item_sent_and_not_yet_started_in_an_idle_child_is_stopped_by_disposal_or_cancellation_without_waiting_the_kill_grace(bool cancel)
    {
        var children = new Children();
        var worker = await children.StartAsync(Body.From<int, int>(StoppableBodies.DoubleOrWaitForStop), Children.Options("stop") with { KillGrace = TimeSpan.FromMinutes(10) });
        var pid = worker.ProcessId;
        Assert.Equal(2, EitherAssert.Right(await worker.InvokeAsync(1, "first").WaitAsync(Bound)));
        Processes.Signal(pid, Processes.SigStop);
        using var cancellation = new CancellationTokenSource();
        var waiting = worker.InvokeAsync(-1, "waiting", cancellationToken: cancellation.Token);
        await Task.Delay(200);

        var stopping = cancel ? cancellation.CancelAsync() : worker.DisposeAsync().AsTask();
        Processes.Signal(pid, Processes.SigCont);
        await stopping.WaitAsync(Bound);
        var result = await waiting.WaitAsync(Bound);
        await children.DisposeAsync().AsTask().WaitAsync(Bound);

        EitherAssert.Left<ChildFailure.Cancelled, int>(result);
        await Processes.AssertAllGoneAsync([pid]);
    }
}
