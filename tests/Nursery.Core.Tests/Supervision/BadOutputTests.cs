using Nursery.TestBodies;
using Nursery.Tests.Support;

namespace Nursery.Tests.Supervision;

/// <summary>
/// Real children that write what the protocol does not allow onto their protocol channel after the handshake, or
/// return results larger than the parent accepts: a ProtocolViolation every time, at once, and no process left.
/// </summary>
public sealed class BadOutputTests
{
    private static readonly TimeSpan Bound = Children.Bound;

    /// <summary>No heartbeat or item deadline to fall back on: a reader that waits for bytes that never come hangs the test (its bounded wait fails).</summary>
    private static WorkerOptions NoTimeouts() => Children.Options("bad output") with { HeartbeatTimeout = Timeout.InfiniteTimeSpan, ItemTimeout = Timeout.InfiniteTimeSpan };

    [Fact]
    public async Task A_header_announcing_a_1000_byte_heartbeat_is_a_ProtocolViolation_at_once_even_without_a_heartbeat_timeout()
    {
        await using var children = new Children();
        var worker = await children.StartAsync(Body.From<int, int>(ProtocolBodies.AnnounceLongHeartbeat), NoTimeouts());

        var failure = EitherAssert.Left<ChildFailure.ProtocolViolation, int>(await worker.InvokeAsync(1, "long heartbeat").WaitAsync(Bound));

        Assert.Contains("a Heartbeat frame announcing 1000 bytes of payload, over the limit of 0 bytes", failure.Detail, StringComparison.Ordinal);
        await Processes.AssertGoneAsync(worker.ProcessId, TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task A_reply_header_over_the_result_bound_is_a_ProtocolViolation_naming_the_option()
    {
        await using var children = new Children();
        var options = NoTimeouts() with { MaxResultBytes = 1 << 20 };
        var worker = await children.StartAsync(Body.From<int, int>(ProtocolBodies.AnnounceReply), options);

        var failure = EitherAssert.Left<ChildFailure.ProtocolViolation, int>(await worker.InvokeAsync(3 << 20, "big reply").WaitAsync(Bound));

        Assert.Contains($"a Reply frame announcing {3 << 20} bytes of payload", failure.Detail, StringComparison.Ordinal);
        Assert.Contains("raise WorkerOptions.MaxResultBytes", failure.Detail, StringComparison.Ordinal);
        await Processes.AssertGoneAsync(worker.ProcessId, TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Random_bytes_on_the_protocol_channel_after_the_handshake_are_always_a_ProtocolViolation_and_never_a_hang()
    {
        await using var children = new Children();
        var kinds = new List<string>();

        foreach (var seed in Enumerable.Range(1, 50))
        {
            var worker = await children.StartAsync(Body.From<int, int>(ProtocolBodies.WriteRandomBytes), NoTimeouts());
            var outcome = await worker.InvokeAsync(seed, $"seed {seed}").WaitAsync(Bound);
            kinds.Add(outcome.Match(result => $"seed {seed}: the result {result}", failure => failure is ChildFailure.ProtocolViolation ? "" : $"seed {seed}: {failure}"));
            await worker.DisposeAsync().AsTask().WaitAsync(Bound);
        }

        Assert.Equal("", string.Join("; ", kinds.Where(kind => kind.Length > 0)));
        foreach (var pid in children.Pids)
            await Processes.AssertGoneAsync(pid, TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task A_result_over_MaxResultBytes_fails_that_item_saying_so_and_the_child_serves_the_next_one()
    {
        await using var children = new Children();
        var options = Children.Options("big results") with { MaxResultBytes = 1 << 20 };
        var worker = await children.StartAsync(Body.From<int, string>(ProtocolBodies.ResultOfLength), options);

        var before = await worker.InvokeAsync(10, "small").WaitAsync(Bound);
        var large = await worker.InvokeAsync(2_000_000, "the large one").WaitAsync(Bound);
        var after = await worker.InvokeAsync(20, "small again").WaitAsync(Bound);

        Assert.Equal(10, EitherAssert.Right(before).Length);
        var failure = EitherAssert.Left<ChildFailure.ProtocolViolation, string>(large);
        Assert.Equal("the large one", failure.Key);
        Assert.Contains("the result of item the large one was too large: the result is 2000002 bytes once encoded, over the limit of 1048576 bytes (WorkerOptions.MaxResultBytes)", failure.Detail, StringComparison.Ordinal);
        Assert.Contains("return a path or a reference", failure.Detail, StringComparison.Ordinal);
        Assert.Equal(20, EitherAssert.Right(after).Length);
        Assert.True(worker.IsAlive);
    }

    [Fact]
    public async Task A_100_MiB_result_under_the_default_options_fails_that_item_saying_so_and_the_child_serves_the_next_one()
    {
        await using var children = new Children();
        var worker = await children.StartAsync(Body.From<int, string>(ProtocolBodies.ResultOfLength));
        var pid = worker.ProcessId;

        var large = await worker.InvokeAsync(100 << 20, "huge").WaitAsync(Bound);
        var after = await worker.InvokeAsync(5, "next").WaitAsync(Bound);

        var failure = EitherAssert.Left<ChildFailure.ProtocolViolation, string>(large);
        Assert.Contains($"the result of item huge was too large: the result is {(100 << 20) + 2} bytes once encoded, over the limit of {FrameBoundsLimit} bytes", failure.Detail, StringComparison.Ordinal);
        Assert.Equal("rrrrr", EitherAssert.Right(after));
        Assert.Equal(pid, worker.ProcessId);
    }

    [Fact]
    public async Task A_pool_fails_only_the_item_whose_result_is_too_large_and_runs_the_rest()
    {
        var pool = new WorkerPool<int, string>(Body.From<int, string>(ProtocolBodies.ResultOfLength), new PoolOptions { Workers = 1, Worker = Children.Options("pool") with { MaxResultBytes = 1 << 16 } });
        var lengths = new[] { 1, 2, 1 << 20, 3, 4 };

        var outcomes = await Task.WhenAll(lengths.Select(length => pool.InvokeAsync(length, $"item {length}"))).WaitAsync(Bound);
        var pids = pool.ProcessIds;
        await pool.DisposeAsync().AsTask().WaitAsync(Bound);

        Assert.Equal([true, true, false, true, true], outcomes.Select(outcome => outcome.IsRight));
        var failure = EitherAssert.Left<ChildFailure.ProtocolViolation, string>(outcomes[2]);
        Assert.Equal("item 1048576", failure.Key);
        Assert.Contains("was too large", failure.Detail, StringComparison.Ordinal);
        var pid = Assert.Single(pids);
        await Processes.AssertGoneAsync(pid, TimeSpan.FromSeconds(5));
    }

    private const int FrameBoundsLimit = 64 << 20;
}
