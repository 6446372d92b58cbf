using System.Diagnostics;
using LanguageExt;
using Nursery.Tests.Support;

namespace Nursery.Tests.Commands;

/// <summary>
/// The batch form of the NDJSON protocol, with real Python processes: a worker that offers it in its ready line gets
/// batches, a worker that does not gets one item a line, and every item of a batch still ends on its own.
/// </summary>
public sealed class PythonBatchTests
{
    private static readonly TimeSpan Bound = Children.Bound;
    private static readonly string Scripts = Path.Combine(AppContext.BaseDirectory, "python");

    private static PersistentCommand<int, int> Helper() => Command.Python<int, int>(Path.Combine(Scripts, "worker.py"));

    private static PersistentCommand<int, int> Raw(string script) => Command.Persistent<int, int>("python3", "-u", Path.Combine(Scripts, script)).WithHandshake(heartbeats: false);

    [Fact]
    public async Task An_item_that_raises_fails_alone_with_its_traceback_and_the_rest_of_its_batch_succeed()
    {
        await using var children = new Children();
        var worker = await StartAsync(children, Helper());

        var results = await worker.InvokeBatchAsync([1, 2, -1, 4, 5], Key, 1, CancellationToken.None).WaitAsync(Bound);

        Assert.Equal([2, 4], results[..2].Select(EitherAssert.Right));
        var failure = EitherAssert.Left<ChildFailure.Faulted, int>(results[2]);
        Assert.Equal("ValueError", failure.Error.Type);
        Assert.Equal("2", failure.Key);
        Assert.Contains("worker.py\", line", failure.Error.StackTrace, StringComparison.Ordinal);
        Assert.Equal([8, 10], results[3..].Select(EitherAssert.Right));
        Assert.True(worker.IsAlive);
    }

    [Fact]
    public async Task A_worker_killed_mid_batch_fails_the_items_it_held_and_no_others()
    {
        await using var children = new Children();
        var worker = await StartAsync(children, Helper());
        var answered = await worker.InvokeBatchAsync([1, 2, 3], Key, 1, CancellationToken.None).WaitAsync(Bound);
        var held = worker.InvokeBatchAsync([10, -6, 11], Key, 1, CancellationToken.None);
        await Task.Delay(300);

        Processes.Signal(worker.ProcessId, Processes.SigKill);
        var results = await held.WaitAsync(Bound);

        Assert.Equal([2, 4, 6], answered.Select(EitherAssert.Right));
        var crashed = EitherAssert.Left<ChildFailure.Crashed, int>(results[0]);
        Assert.Equal(Option<int>.Some(9), crashed.Signal);
        foreach (var result in results[1..])
        {
            var cancelled = EitherAssert.Left<ChildFailure.Cancelled, int>(result);
            Assert.IsType<ChildFailure.Crashed>(cancelled.Cause.IfNone(() => throw new Xunit.Sdk.XunitException("no cause")));
        }
    }

    [Fact]
    public async Task A_worker_that_offers_batches_is_sent_batches_and_may_answer_them_in_runs_in_any_member_order()
    {
        await using var children = new Children();
        var worker = await StartAsync(children, Raw("batch_only.py"));

        var batch = await worker.InvokeBatchAsync([.. Enumerable.Range(1, 9)], Key, 1, CancellationToken.None).WaitAsync(Bound);
        var single = await worker.InvokeAsync(21, "single").WaitAsync(Bound);

        Assert.Equal(Enumerable.Range(1, 9).Select(i => i * 2), batch.Select(EitherAssert.Right));
        Assert.Equal(42, EitherAssert.Right(single));
    }

    [Fact]
    public async Task A_worker_that_speaks_only_the_one_item_form_is_sent_one_item_a_line()
    {
        await using var children = new Children();
        var worker = await StartAsync(children, Raw("one_item_only.py"));

        var results = await worker.InvokeBatchAsync([.. Enumerable.Range(1, 20)], Key, 1, CancellationToken.None).WaitAsync(Bound);

        Assert.Equal(Enumerable.Range(1, 20).Select(i => i * 2), results.Select(EitherAssert.Right));
    }

    [Fact]
    public async Task A_batch_reply_whose_ok_is_not_an_array_is_a_ProtocolViolation()
    {
        await using var children = new Children();
        var worker = await StartAsync(children, Raw("batch_garbage.py"));

        var results = await worker.InvokeBatchAsync([1, 2], Key, 1, CancellationToken.None).WaitAsync(Bound);

        var failure = EitherAssert.Left<ChildFailure.ProtocolViolation, int>(results[0]);
        Assert.Contains("has an \"ok\" that is not an array", failure.Detail, StringComparison.Ordinal);
        await Processes.AssertGoneAsync(worker.ProcessId, TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Heartbeats_keep_a_worker_alive_while_one_item_runs_longer_than_the_heartbeat_timeout()
    {
        await using var children = new Children();
        var worker = await StartAsync(children, Helper(), Children.Options("py") with { HeartbeatTimeout = TimeSpan.FromSeconds(2) });

        var result = await worker.InvokeAsync(-8, "slow").WaitAsync(Bound);

        Assert.Equal(8, EitherAssert.Right(result));
    }

    [Fact]
    public async Task The_helper_leaves_when_its_parent_dies_though_its_stdin_stays_open()
    {
        // sh starts the helper in the background on sh's own stdin (this test's pipe, kept open), prints its pid and
        // waits; once the helper has said it is ready, killing sh orphans it, and it must notice on its own.
        var start = new ProcessStartInfo("/bin/sh") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("exec 3<&0; python3 -u \"$1\" 0<&3 3<&- 2>/dev/null & echo \"pid $!\"; wait");
        start.ArgumentList.Add("sh");
        start.ArgumentList.Add(Path.Combine(Scripts, "worker.py"));
        start.Environment["PYTHONPATH"] = AppContext.BaseDirectory;
        using var shell = Process.Start(start)!;
        var python = 0;
        var ready = false;
        while (!ready)
        {
            var line = await shell.StandardOutput.ReadLineAsync().WaitAsync(Bound) ?? throw new Xunit.Sdk.XunitException("the shell ended before the helper was ready");
            if (line.StartsWith("pid ", StringComparison.Ordinal))
                python = int.Parse(line[4..], System.Globalization.CultureInfo.InvariantCulture);
            ready = line.StartsWith("{\"ready\":true", StringComparison.Ordinal);
        }
        Assert.True(python > 0 && Processes.IsAlive(python));

        Processes.Signal(shell.Id, Processes.SigKill);

        await Processes.AssertGoneAsync(python, TimeSpan.FromSeconds(10));
        await shell.WaitForExitAsync().WaitAsync(Bound);
        shell.StandardInput.Close();
    }

    private static string Key(int index) => index.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static async Task<Worker<int, int>> StartAsync(Children children, PersistentCommand<int, int> command, WorkerOptions? options = null)
    {
        var started = await Nursery.Worker.StartAsync(command, options ?? Children.Options("py")).WaitAsync(Bound);
        var worker = started.Match(w => w, failure => throw new Xunit.Sdk.XunitException($"the worker did not start: {failure}"));
        children.Adopt(worker);
        return worker;
    }
}
