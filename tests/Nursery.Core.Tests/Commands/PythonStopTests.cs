using Nursery.Tests.Support;

namespace Nursery.Tests.Commands;

/// <summary>
/// A Python handler that takes a stop event (<c>def handle(item, stop)</c>): the parent asks the worker to stop an
/// item (a <c>{"stop":[…]}</c> line) before it kills, as it asks a .NET body that takes a token. Real python3
/// processes; the worker's own log of the items it started shows what ran.
/// </summary>
public sealed class PythonStopTests
{
    private static readonly TimeSpan Bound = Children.Bound;
    private static readonly string Scripts = Path.Combine(AppContext.BaseDirectory, "python");

    /// <summary>A grace long enough that a handler which honours its event always stops within it, even on a loaded machine.</summary>
    private static WorkerOptions Patient(TimeSpan itemTimeout) => Children.Options("py-stop") with { ItemTimeout = itemTimeout, KillGrace = TimeSpan.FromSeconds(20) };

    [Fact]
    public async Task An_item_past_its_deadline_is_stopped_through_its_event_and_the_same_worker_serves_the_next_item()
    {
        using var log = new StartLog();
        await using var children = new Children();
        var worker = await StartAsync(children, log, Patient(TimeSpan.FromMilliseconds(600)));
        var pid = worker.ProcessId;

        var failure = EitherAssert.Left<ChildFailure.TimedOut, int>(await worker.InvokeAsync(-3, "hang").WaitAsync(Bound));
        var next = await worker.InvokeAsync(21, "next").WaitAsync(Bound);

        Assert.Equal(TimeoutKind.ItemDeadline, failure.Limit);
        Assert.False(failure.ChildKilled);
        Assert.Equal("hang", failure.Key);
        Assert.Equal(42, EitherAssert.Right(next));
        Assert.Equal(pid, worker.ProcessId);
        Assert.True(Processes.IsAlive(pid));
    }

    [Fact]
    public async Task Cancelling_a_running_item_stops_it_and_an_item_waiting_behind_it_is_never_started()
    {
        using var log = new StartLog();
        await using var children = new Children();
        var worker = await StartAsync(children, log, Patient(Timeout.InfiniteTimeSpan));
        using var cancelRunning = new CancellationTokenSource();
        using var cancelWaiting = new CancellationTokenSource();

        var running = worker.InvokeAsync(-3, "long", cancellationToken: cancelRunning.Token);
        await log.WaitForAsync("start -3");
        var waiting = worker.InvokeAsync(1001, "waiting", cancellationToken: cancelWaiting.Token);
        // The waiting item is in the worker (written to its stdin) before it is cancelled.
        await Task.Delay(200);
        await cancelWaiting.CancelAsync();
        var notStarted = EitherAssert.Left<ChildFailure.Cancelled, int>(await waiting.WaitAsync(Bound));
        await cancelRunning.CancelAsync();
        var stopped = EitherAssert.Left<ChildFailure.Cancelled, int>(await running.WaitAsync(Bound));
        var next = await worker.InvokeAsync(7, "next").WaitAsync(Bound);

        Assert.False(notStarted.ItemStarted);
        Assert.True(stopped.ItemStarted);
        Assert.Contains("the child lives on", stopped.Reason, StringComparison.Ordinal);
        Assert.Equal(14, EitherAssert.Right(next));
        Assert.Equal(["start -3", "start 7"], log.Lines());
        Assert.True(Processes.IsAlive(worker.ProcessId));
    }

    [Fact]
    public async Task Disposing_the_worker_asks_the_running_item_to_stop_instead_of_waiting_the_kill_grace()
    {
        using var log = new StartLog();
        await using var children = new Children();
        var worker = await StartAsync(children, log, Children.Options("py-stop") with { KillGrace = TimeSpan.FromMinutes(5) });

        var running = worker.InvokeAsync(-3, "long");
        await log.WaitForAsync("start -3");
        await worker.DisposeAsync().AsTask().WaitAsync(Bound);
        var failure = EitherAssert.Left<ChildFailure.Cancelled, int>(await running.WaitAsync(Bound));

        Assert.True(failure.ItemStarted);
        Assert.Contains("its body stopped", failure.Reason, StringComparison.Ordinal);
        await Processes.AssertGoneAsync(worker.ProcessId, TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task A_handler_that_ignores_its_event_is_killed_after_the_kill_grace_and_reported_TimedOut()
    {
        using var log = new StartLog();
        await using var children = new Children();
        var worker = await StartAsync(children, log, Children.Options("py-stop") with { ItemTimeout = TimeSpan.FromMilliseconds(500), KillGrace = TimeSpan.FromSeconds(1) });

        var failure = EitherAssert.Left<ChildFailure.TimedOut, int>(await worker.InvokeAsync(-7, "deaf").WaitAsync(Bound));

        Assert.True(failure.ChildKilled);
        // Asked at the deadline, killed a grace later.
        Assert.True(failure.Elapsed >= TimeSpan.FromMilliseconds(1500), $"ended after {failure.Elapsed}");
        await Processes.AssertGoneAsync(worker.ProcessId, TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task A_handler_without_a_stop_parameter_is_not_offered_stops_and_is_killed_when_its_item_is_cancelled()
    {
        await using var children = new Children();
        var worker = await StartAsync(children, Command.Python<int, int>(Path.Combine(Scripts, "worker.py")), Patient(Timeout.InfiniteTimeSpan));
        using var cancel = new CancellationTokenSource();

        var running = worker.InvokeAsync(-3, "hang", cancellationToken: cancel.Token);
        await Task.Delay(300);
        await cancel.CancelAsync();
        var failure = EitherAssert.Left<ChildFailure.Cancelled, int>(await running.WaitAsync(Bound));

        Assert.Contains("the child was killed", failure.Reason, StringComparison.Ordinal);
        await Processes.AssertGoneAsync(worker.ProcessId, TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task A_stoppable_helper_whose_stdin_reader_fails_exits_instead_of_heartbeating_with_nothing_to_run()
    {
        using var log = new StartLog();
        var start = new System.Diagnostics.ProcessStartInfo("python3") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("-u");
        start.ArgumentList.Add(Path.Combine(Scripts, "stoppable.py"));
        start.ArgumentList.Add(log.Path);
        start.Environment["PYTHONPATH"] = AppContext.BaseDirectory;
        using var python = System.Diagnostics.Process.Start(start)!;
        try
        {
            var ready = await python.StandardOutput.ReadLineAsync().WaitAsync(Bound);
            Assert.StartsWith("{\"ready\":true", ready, StringComparison.Ordinal);

            // Not a request: the reader thread fails on it while stdin stays open.
            await python.StandardInput.WriteLineAsync("not json");
            await python.StandardInput.FlushAsync();
            await python.WaitForExitAsync().WaitAsync(Bound);

            Assert.Equal(3, python.ExitCode);
            Assert.Contains("JSONDecodeError", await python.StandardError.ReadToEndAsync().WaitAsync(Bound), StringComparison.Ordinal);
        }
        finally
        {
            if (!python.HasExited)
                python.Kill();
            await Processes.AssertGoneAsync(python.Id, TimeSpan.FromSeconds(5));
        }
    }

    private static Task<Worker<int, int>> StartAsync(Children children, StartLog log, WorkerOptions options) =>
        StartAsync(children, Command.Python<int, int>(Path.Combine(Scripts, "stoppable.py"), log.Path), options);

    private static async Task<Worker<int, int>> StartAsync(Children children, PersistentCommand<int, int> command, WorkerOptions options)
    {
        var started = await Nursery.Worker.StartAsync(command, options).WaitAsync(Bound);
        var worker = started.Match(w => w, failure => throw new Xunit.Sdk.XunitException($"the worker did not start: {failure}"));
        children.Adopt(worker);
        return worker;
    }

    /// <summary>The file the test worker appends "start N" to as it starts each item.</summary>
    private sealed class StartLog : IDisposable
    {
        public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"nursery-py-stop-{Guid.NewGuid():N}.log");

        public string[] Lines() => File.Exists(Path) ? File.ReadAllLines(Path) : [];

        public Task WaitForAsync(string line) => Files.WaitForLineAsync(Path, line);

        public void Dispose() => File.Delete(Path);
    }
}
