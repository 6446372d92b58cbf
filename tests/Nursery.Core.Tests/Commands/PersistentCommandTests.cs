using LanguageExt;
using Nursery.Tests.Support;

namespace Nursery.Tests.Commands;

/// <summary>Python workers built on the shipped helper, speaking newline-delimited JSON, as real processes.</summary>
public sealed class PersistentCommandTests
{
    private static readonly TimeSpan Bound = Children.Bound;
    private static readonly string Scripts = Path.Combine(AppContext.BaseDirectory, "python");

    private static PersistentCommand<int, int> Worker() => Command.Python<int, int>(Path.Combine(Scripts, "worker.py"));

    [Fact]
    public async Task A_python_function_returns_its_results()
    {
        await using var children = new Children();
        var worker = await StartAsync(children, Worker());

        var results = await Task.WhenAll(Enumerable.Range(1, 50).Select(i => worker.InvokeAsync(i, i.ToString(System.Globalization.CultureInfo.InvariantCulture)))).WaitAsync(Bound);

        Assert.Equal(Enumerable.Range(1, 50).Select(i => i * 2), results.Select(EitherAssert.Right));
    }

    [Fact]
    public async Task A_python_exception_arrives_as_Faulted_with_its_traceback()
    {
        await using var children = new Children();
        var worker = await StartAsync(children, Worker());

        var failure = EitherAssert.Left<ChildFailure.Faulted, int>(await worker.InvokeAsync(-1, "bad").WaitAsync(Bound));

        Assert.Equal("ValueError", failure.Error.Type);
        Assert.Equal("negative items are invalid", failure.Error.Message);
        Assert.Contains("worker.py\", line", failure.Error.StackTrace, StringComparison.Ordinal);
        Assert.True(worker.IsAlive);
    }

    [Fact]
    public async Task Os_exit_5_is_Crashed_with_exit_code_5()
    {
        await using var children = new Children();
        var worker = await StartAsync(children, Worker());

        var failure = EitherAssert.Left<ChildFailure.Crashed, int>(await worker.InvokeAsync(-2, "exit").WaitAsync(Bound));

        Assert.Equal(5, failure.ExitCode);
    }

    [Fact]
    public async Task A_python_worker_killed_with_kill_9_is_Crashed_with_signal_9()
    {
        await using var children = new Children();
        var worker = await StartAsync(children, Worker());
        var running = worker.InvokeAsync(-6, "busy");
        await Task.Delay(300);

        Processes.Signal(worker.ProcessId, Processes.SigKill);
        var failure = EitherAssert.Left<ChildFailure.Crashed, int>(await running.WaitAsync(Bound));

        Assert.Equal(Option<int>.Some(9), failure.Signal);
    }

    [MemoryCgroupFact]
    public async Task A_python_worker_past_its_memory_limit_is_OutOfMemory()
    {
        await using var children = new Children();
        var worker = await StartAsync(children, Worker(), Children.Options("py") with { MemoryLimit = 96L << 20 });

        var failure = EitherAssert.Left<ChildFailure.OutOfMemory, int>(await worker.InvokeAsync(-4, "hog").WaitAsync(Bound));

        Assert.Equal(96L << 20, failure.LimitBytes);
    }

    [Fact]
    public async Task A_hung_python_item_is_TimedOut_and_the_worker_killed()
    {
        await using var children = new Children();
        var worker = await StartAsync(children, Worker(), Children.Options("py") with { ItemTimeout = TimeSpan.FromMilliseconds(600) });

        var failure = EitherAssert.Left<ChildFailure.TimedOut, int>(await worker.InvokeAsync(-3, "hang").WaitAsync(Bound));

        Assert.Equal(TimeoutKind.ItemDeadline, failure.Limit);
        await Processes.AssertGoneAsync(worker.ProcessId, TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Print_in_a_helper_worker_goes_to_stderr_and_the_protocol_survives()
    {
        await using var children = new Children();
        var worker = await StartAsync(children, Worker());

        var result = await worker.InvokeAsync(21, "noisy").WaitAsync(Bound);

        Assert.Equal(42, EitherAssert.Right(result));
    }

    [Fact]
    public async Task A_worker_printing_outside_the_protocol_is_a_ProtocolViolation()
    {
        await using var children = new Children();
        var command = Command.Persistent<int, int>("python3", "-u", Path.Combine(Scripts, "raw_garbage.py"));
        var worker = await StartAsync(children, command);

        var failure = EitherAssert.Left<ChildFailure.ProtocolViolation, int>(await worker.InvokeAsync(1, "raw").WaitAsync(Bound));

        Assert.Contains("Processing item", System.Text.Encoding.ASCII.GetString([.. failure.BytesSeen]), StringComparison.Ordinal);
        await Processes.AssertGoneAsync(worker.ProcessId, TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task A_failing_python_initializer_is_StartFailed_with_its_traceback()
    {
        await using var children = new Children();

        var started = await Nursery.Worker.StartAsync(Command.Python<int, int>(Path.Combine(Scripts, "failing_init.py")), Children.Options("py")).WaitAsync(Bound);

        var failure = started.Match(_ => throw new Xunit.Sdk.XunitException("it started"), f => f as ChildFailure.StartFailed ?? throw new Xunit.Sdk.XunitException(f.ToString()));
        children.Track(failure.ProcessId);
        var remote = failure.Remote.Match(r => r, () => throw new Xunit.Sdk.XunitException("no remote error"));
        Assert.Equal("ConnectionError", remote.Type);
        Assert.Contains("connect", remote.StackTrace, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_interpreter_is_refused_when_the_command_is_built()
    {
        var error = Assert.Throws<ArgumentException>(() => Command.Persistent<int, int>("/nonexistent/python9", "worker.py"));

        Assert.Contains("Command.Persistent: the executable '/nonexistent/python9' does not exist; check the path", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_interpreter_gone_after_the_command_was_built_is_StartFailed_with_a_clear_message()
    {
        var started = await Nursery.Worker.StartAsync(Command.Persistent<int, int>("/bin/cat") with { Executable = "/nonexistent/python9" }, Children.Options("py")).WaitAsync(Bound);

        var failure = started.Match(_ => throw new Xunit.Sdk.XunitException("it started"), f => f as ChildFailure.StartFailed ?? throw new Xunit.Sdk.XunitException(f.ToString()));
        Assert.Contains("/nonexistent/python9", failure.Reason, StringComparison.Ordinal);
    }

    private static async Task<Worker<int, int>> StartAsync(Children children, PersistentCommand<int, int> command, WorkerOptions? options = null)
    {
        var started = await Nursery.Worker.StartAsync(command, options ?? Children.Options("py")).WaitAsync(Bound);
        var worker = started.Match(w => w, failure => throw new Xunit.Sdk.XunitException($"the worker did not start: {failure}"));
        children.Adopt(worker);
        return worker;
    }
}
