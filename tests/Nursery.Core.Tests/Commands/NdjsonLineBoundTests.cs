using Nursery.Tests.Support;

namespace Nursery.Tests.Commands;

/// <summary>A persistent worker that writes a line that never ends: a ProtocolViolation once the line passes its bound, and the worker gone.</summary>
public sealed class NdjsonLineBoundTests
{
    private static readonly TimeSpan Bound = Children.Bound;

    /// <summary>
    /// Reads the item's line, then writes <paramref name="bytes"/> bytes of 'a' without a newline on stdout and sleeps (it never
    /// answers). Writing only after the item arrived makes the item the one the violation fails: a worker that breaks the
    /// protocol before any item is sent fails the items sent after it as Cancelled.
    /// </summary>
    private static PersistentCommand<int, int> EndlessLine(long bytes) =>
        Command.Persistent<int, int>("/bin/sh", "-c", $"read -r item; head -c {bytes} /dev/zero | tr '\\0' a; exec sleep 300");

    [Fact]
    public async Task A_line_longer_than_MaxResultBytes_is_a_ProtocolViolation_that_names_the_option()
    {
        await using var children = new Children();
        var worker = await StartAsync(children, EndlessLine(3 << 20), Children.Options("ndjson") with { MaxResultBytes = 1 << 20, HeartbeatTimeout = Timeout.InfiniteTimeSpan });

        var failure = EitherAssert.Left<ChildFailure.ProtocolViolation, int>(await worker.InvokeAsync(1, "endless").WaitAsync(Bound));

        Assert.Contains($"the worker wrote a line longer than {(1 << 20) + (1 << 20)} bytes", failure.Detail, StringComparison.Ordinal);
        Assert.Contains("raise WorkerOptions.MaxResultBytes", failure.Detail, StringComparison.Ordinal);
        Assert.Equal("aaaa", System.Text.Encoding.ASCII.GetString([.. failure.BytesSeen.Take(4)]));
        await Processes.AssertGoneAsync(worker.ProcessId, TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task A_line_of_70_MB_under_the_default_options_is_a_ProtocolViolation_without_rescanning_the_line_at_every_read()
    {
        await using var children = new Children();
        var worker = await StartAsync(children, EndlessLine(70_000_000), Children.Options("ndjson") with { HeartbeatTimeout = Timeout.InfiniteTimeSpan });

        var failure = EitherAssert.Left<ChildFailure.ProtocolViolation, int>(await worker.InvokeAsync(1, "endless").WaitAsync(Bound));

        Assert.Contains($"the worker wrote a line longer than {(64 << 20) + (1 << 20)} bytes", failure.Detail, StringComparison.Ordinal);
        await Processes.AssertGoneAsync(worker.ProcessId, TimeSpan.FromSeconds(5));
    }

    private static async Task<Worker<int, int>> StartAsync(Children children, PersistentCommand<int, int> command, WorkerOptions options)
    {
        var started = await Nursery.Worker.StartAsync(command, options).WaitAsync(Bound);
        var worker = started.Match(w => w, failure => throw new Xunit.Sdk.XunitException($"the worker did not start: {failure}"));
        children.Adopt(worker);
        return worker;
    }
}
