using LanguageExt;
using Nursery.ScaleOut.Tests.Support;
using Nursery.TestBodies;
using Nursery.Tests.Support;

namespace Nursery.ScaleOut.Tests;

/// <summary>
/// The local worker's failure tests (throw, exit, kill -9, hang, garbage, start failures), run through a launcher.
/// The cluster is this machine, so the pid a child reports in its hello is checked in /proc like a local one.
/// </summary>
internal static class LauncherScenarios
{
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    public static WorkerOptions Options(Launcher launcher, string stage = "remote") =>
        new()
        {
            Name = stage,
            KillGrace = TimeSpan.FromSeconds(1),
            HeartbeatInterval = TimeSpan.FromMilliseconds(250),
            HeartbeatTimeout = TimeSpan.FromSeconds(5),
            Launcher = launcher,
        };

    public static async Task A_body_returns_its_result_from_a_child_behind_the_launcher(Launcher launcher)
    {
        await using var children = new Children();
        var worker = await children.StartAsync(Body.From<int, int>(Bodies.Pid), Options(launcher));

        var pid = EitherAssert.Right(await worker.InvokeAsync(0).WaitAsync(Bound));
        var doubled = await Worker.StartAsync(Body.From<int, int>(Bodies.Double), Options(launcher)).WaitAsync(Bound);
        var second = EitherAssert.Right(doubled);
        children.Adopt(second);

        Assert.Equal(worker.ProcessId, pid);
        Assert.NotEqual(Environment.ProcessId, pid);
        Assert.True(Processes.IsAlive(pid));
        Assert.Equal(84, EitherAssert.Right(await second.InvokeAsync(42).WaitAsync(Bound)));
        await worker.DisposeAsync();
        await Processes.AssertGoneAsync(pid, TimeSpan.FromSeconds(10));
    }

    public static async Task A_throw_is_Faulted_and_the_child_keeps_serving(Launcher launcher)
    {
        await using var children = new Children();
        var worker = await children.StartAsync(Body.From<int, int>(Bodies.ThrowOn13), Options(launcher, "parse"));

        var failure = EitherAssert.Left<ChildFailure.Faulted, int>(await worker.InvokeAsync(13, "k13").WaitAsync(Bound));
        var after = await worker.InvokeAsync(2).WaitAsync(Bound);

        Assert.Equal("System.ArgumentException", failure.Error.Type);
        Assert.Equal("13 is unlucky", failure.Error.Message);
        Assert.Equal("k13", failure.Key);
        Assert.Equal(worker.ProcessId, failure.ProcessId);
        Assert.Equal(4, EitherAssert.Right(after));
    }

    public static async Task An_exit_is_Crashed_with_its_code(Launcher launcher)
    {
        await using var children = new Children();
        var worker = await children.StartAsync(Body.From<int, int>(Bodies.Exit3), Options(launcher));

        var failure = EitherAssert.Left<ChildFailure.Crashed, int>(await worker.InvokeAsync(1, "x").WaitAsync(Bound));

        Assert.Equal(3, failure.ExitCode);
        Assert.True(failure.Signal.IsNone, failure.ToString());
        Assert.Equal("x", failure.Key);
        await Processes.AssertGoneAsync(worker.ProcessId, TimeSpan.FromSeconds(10));
    }

    public static async Task A_kill_9_of_the_remote_child_is_Crashed_with_signal_9(Launcher launcher)
    {
        await using var children = new Children();
        var worker = await children.StartAsync(Body.From<int, int>(Bodies.SleepForever), Options(launcher));
        var running = worker.InvokeAsync(1, "victim");
        await Task.Delay(300);

        Processes.Signal(worker.ProcessId, Processes.SigKill);
        var failure = EitherAssert.Left<ChildFailure.Crashed, int>(await running.WaitAsync(Bound));

        Assert.Equal(Option<int>.Some(9), failure.Signal);
        Assert.Equal("victim", failure.Key);
    }

    public static async Task A_hang_past_the_item_deadline_is_TimedOut_and_the_remote_child_is_gone(Launcher launcher)
    {
        await using var children = new Children();
        var worker = await children.StartAsync(Body.From<int, int>(Bodies.SleepForever), Options(launcher) with { ItemTimeout = TimeSpan.FromSeconds(1) });

        var failure = EitherAssert.Left<ChildFailure.TimedOut, int>(await worker.InvokeAsync(1, "slow").WaitAsync(Bound));

        Assert.Equal(TimeoutKind.ItemDeadline, failure.Limit);
        Assert.Equal("slow", failure.Key);
        await Processes.AssertGoneAsync(worker.ProcessId, TimeSpan.FromSeconds(10));
    }

    public static async Task Garbage_on_the_channel_is_a_ProtocolViolation(Launcher launcher)
    {
        await using var children = new Children();
        var worker = await children.StartAsync(Body.From<int, int>(Bodies.Garbage), Options(launcher));

        var failure = EitherAssert.Left<ChildFailure.ProtocolViolation, int>(await worker.InvokeAsync(1, "g").WaitAsync(Bound));

        Assert.NotEmpty(failure.BytesSeen);
        await Processes.AssertGoneAsync(worker.ProcessId, TimeSpan.FromSeconds(10));
    }

    /// <summary>A "dotnet" that greets like a login script before it runs the host: the bytes arrive before the hello.</summary>
    public static async Task Stray_bytes_before_the_hello_are_a_StartFailed_naming_them(Launcher launcher)
    {
        var script = Path.Combine(Path.GetTempPath(), $"nursery-chatty-dotnet-{Guid.NewGuid():N}.sh");
        await File.WriteAllTextAsync(script, $"#!/bin/sh\necho 'Welcome to node 7'\nexec '{ChildHostLocation.Default.DotnetExecutable}' \"$@\"\n");
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        try
        {
            var host = ChildHostLocation.Default with { DotnetExecutable = script };
            var chatty = launcher switch
            {
                SlurmLauncher slurm => (Launcher)(slurm with { RemoteHost = host }),
                SshLauncher ssh => ssh with { RemoteHost = host },
                _ => launcher,
            };
            await using var children = new Children();

            var started = await children.TryStartAsync(Body.From<int, int>(Bodies.Double), Options(chatty));

            var failure = EitherAssert.Left<ChildFailure.StartFailed, Worker<int, int>>(started);
            Assert.Contains("stray bytes before the child's hello ('Welco')", failure.Reason, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(script);
        }
    }

    public static async Task A_missing_child_host_on_the_remote_side_is_StartFailed(Launcher launcher)
    {
        var host = ChildHostLocation.Default with { HostAssembly = "/nonexistent/Nursery.ChildHost.dll" };
        var broken = launcher switch
        {
            SlurmLauncher slurm => (Launcher)(slurm with { RemoteHost = host }),
            SshLauncher ssh => ssh with { RemoteHost = host },
            _ => launcher,
        };
        await using var children = new Children();

        var started = await children.TryStartAsync(Body.From<int, int>(Bodies.Double), Options(broken));

        var failure = EitherAssert.Left<ChildFailure.StartFailed, Worker<int, int>>(started);
        Assert.Contains(failure.StderrTail, line => line.Contains("/nonexistent/Nursery.ChildHost.dll", StringComparison.Ordinal) || line.Contains("Could not execute", StringComparison.Ordinal));
    }

    /// <summary>
    /// The launcher process is stopped (SIGSTOP): no frame reaches the child any more, not even a heartbeat, and its
    /// stdin never ends. The child leaves by itself after the launcher's silence timeout.
    /// </summary>
    public static async Task A_child_whose_parent_falls_silent_leaves_by_itself(Launcher launcher, string marker)
    {
        await using var children = new Children();
        var worker = await children.StartAsync(Body.From<int, int>(Bodies.SleepMilliseconds), Options(launcher) with { HeartbeatTimeout = Timeout.InfiniteTimeSpan, Environment = new Dictionary<string, string> { ["NURSERY_TEST_MARK"] = marker } });
        var launcherProcess = Assert.Single(Cluster.LaunchersWith(marker));

        Processes.Signal(launcherProcess, Processes.SigStop);
        try
        {
            Assert.True(await Processes.GoneWithinAsync(worker.ProcessId, TimeSpan.FromSeconds(20)), $"the child {worker.ProcessId} is still running 20 s after its launcher was stopped");
        }
        finally
        {
            Processes.Signal(launcherProcess, Processes.SigCont);
        }
        var failure = await worker.Completion.WaitAsync(Bound);

        Assert.True(failure.IsSome, "the worker must report that its child left");
        Assert.Contains(failure.Map(value => value.StderrTail).IfNone([]), line => line.Contains("nothing from the parent", StringComparison.Ordinal));
        await Processes.AssertGoneAsync(launcherProcess, TimeSpan.FromSeconds(10));
    }

    /// <summary>The parent's heartbeats keep a child busy longer than its silence timeout alive.</summary>
    public static async Task An_item_longer_than_the_silence_timeout_completes(Launcher launcher)
    {
        await using var children = new Children();
        var worker = await children.StartAsync(Body.From<int, int>(Bodies.SleepMilliseconds), Options(launcher));

        var result = await worker.InvokeAsync(5000).WaitAsync(Bound);

        Assert.Equal(5000, EitherAssert.Right(result));
    }

    public static async Task Disposing_a_worker_leaves_nothing_running(Launcher launcher)
    {
        var children = new Children();
        var worker = await children.StartAsync(Body.From<int, int>(Bodies.SleepForever), Options(launcher));
        var running = worker.InvokeAsync(1, "busy");
        await Task.Delay(200);

        await children.DisposeAsync();

        Assert.IsType<ChildFailure.Cancelled>(EitherAssert.Left<ChildFailure.Cancelled, int>(await running.WaitAsync(Bound)));
        await Processes.AssertGoneAsync(worker.ProcessId, TimeSpan.FromSeconds(10));
    }
}
