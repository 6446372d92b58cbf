using Nursery.ScaleOut.Tests.Support;
using Nursery.TestBodies;
using Nursery.Tests.Support;

namespace Nursery.ScaleOut.Tests;

/// <summary>The local worker's failure tests through srun on the single-node Slurm that .ci/cluster-up starts.</summary>
public sealed class SlurmLauncherTests
{
    [SlurmFact]
    public Task An_item_longer_than_the_silence_timeout_completes_in_a_Slurm_step() => LauncherScenarios.An_item_longer_than_the_silence_timeout_completes(Cluster.Slurm("long"));

    [SlurmFact]
    public Task A_body_returns_its_result_from_a_child_in_a_Slurm_step() => LauncherScenarios.A_body_returns_its_result_from_a_child_behind_the_launcher(Cluster.Slurm("result"));

    [SlurmFact]
    public Task A_throw_in_a_Slurm_step_is_Faulted_and_the_child_keeps_serving() => LauncherScenarios.A_throw_is_Faulted_and_the_child_keeps_serving(Cluster.Slurm("throw"));

    [SlurmFact]
    public Task An_exit_in_a_Slurm_step_is_Crashed_with_its_code() => LauncherScenarios.An_exit_is_Crashed_with_its_code(Cluster.Slurm("exit"));

    [SlurmFact]
    public Task A_kill_9_of_a_child_in_a_Slurm_step_is_Crashed_with_signal_9() => LauncherScenarios.A_kill_9_of_the_remote_child_is_Crashed_with_signal_9(Cluster.Slurm("kill"));

    [SlurmFact]
    public Task A_hang_in_a_Slurm_step_is_TimedOut_and_the_child_is_gone() => LauncherScenarios.A_hang_past_the_item_deadline_is_TimedOut_and_the_remote_child_is_gone(Cluster.Slurm("hang"));

    [SlurmFact]
    public Task Garbage_from_a_Slurm_step_is_a_ProtocolViolation() => LauncherScenarios.Garbage_on_the_channel_is_a_ProtocolViolation(Cluster.Slurm("garbage"));

    [SlurmFact]
    public Task Stray_bytes_before_the_hello_in_a_Slurm_step_are_a_StartFailed() => LauncherScenarios.Stray_bytes_before_the_hello_are_a_StartFailed_naming_them(Cluster.Slurm("stray"));

    [SlurmFact]
    public Task A_missing_child_host_on_the_node_is_StartFailed() => LauncherScenarios.A_missing_child_host_on_the_remote_side_is_StartFailed(Cluster.Slurm("nohost"));

    [SlurmFact]
    public Task A_child_whose_srun_is_stopped_leaves_by_itself() => SilentSrunAsync();

    private static Task SilentSrunAsync()
    {
        var launcher = Cluster.Slurm("silent");
        return LauncherScenarios.A_child_whose_parent_falls_silent_leaves_by_itself(launcher, launcher.RunId);
    }

    [SlurmFact]
    public async Task Disposing_a_Slurm_worker_leaves_no_process_and_no_job()
    {
        var launcher = Cluster.Slurm("dispose");

        await LauncherScenarios.Disposing_a_worker_leaves_nothing_running(launcher);

        Assert.Equal("", await Cluster.JobsLeftAsync(launcher.RunId));
    }

    [SlurmFact]
    public async Task A_child_killed_by_the_OOM_killer_in_a_Slurm_step_is_OutOfMemory()
    {
        await using var children = new Children();
        var options = LauncherScenarios.Options(Cluster.Slurm("oom")) with { MemoryLimit = 96 << 20 };
        var worker = await children.StartAsync(Body.From<int, int>(ScaleOutBodies.AllocateNative), options);

        var failure = EitherAssert.Left<ChildFailure.OutOfMemory, int>(await worker.InvokeAsync(1024, "big").WaitAsync(LauncherScenarios.Bound));

        Assert.Equal("big", failure.Key);
        Assert.Contains(failure.StderrTail, line => line.Contains("Out Of Memory", StringComparison.Ordinal));
        await Processes.AssertGoneAsync(worker.ProcessId, TimeSpan.FromSeconds(10));
    }

    [SlurmFact]
    public async Task Managed_allocations_past_the_step_memory_throw_OutOfMemoryException_in_the_child_which_is_Faulted()
    {
        await using var children = new Children();
        var options = LauncherScenarios.Options(Cluster.Slurm("gcoom")) with { MemoryLimit = 96 << 20 };
        var worker = await children.StartAsync(Body.From<int, int>(Bodies.Allocate), options);

        var failure = EitherAssert.Left<ChildFailure.Faulted, int>(await worker.InvokeAsync(1024, "big").WaitAsync(LauncherScenarios.Bound));

        Assert.Equal("System.OutOfMemoryException", failure.Error.Type);
        Assert.True(worker.IsAlive, "the GC refused the allocation; the child lives on");
    }

    [SlurmFact]
    public async Task The_hello_names_the_Slurm_job_and_CancelRunAsync_cancels_every_step_of_the_run()
    {
        var launcher = Cluster.Slurm("cancel");
        await using var children = new Children();
        var first = await children.StartAsync(Body.From<int, int>(Bodies.SleepForever), LauncherScenarios.Options(launcher));
        var second = await children.StartAsync(Body.From<int, int>(Bodies.SleepForever), LauncherScenarios.Options(launcher));
        var running = first.InvokeAsync(1, "a");

        var jobs = Cluster.Run("squeue", "-h", "-o", "%i", $"--name={launcher.RunId}").Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var complaint = await launcher.CancelRunAsync();

        Assert.Equal(2, jobs.Length);
        Assert.True(complaint.IsNone, complaint.IfNone(""));
        Assert.IsAssignableFrom<ChildFailure>(EitherAssert.Left<ChildFailure, int>(await running.WaitAsync(LauncherScenarios.Bound)));
        await Processes.AssertGoneAsync(first.ProcessId, TimeSpan.FromSeconds(15));
        await Processes.AssertGoneAsync(second.ProcessId, TimeSpan.FromSeconds(15));
        Assert.Equal("", await Cluster.JobsLeftAsync(launcher.RunId));
    }

    [SlurmFact]
    public async Task No_capacity_is_StartFailed_saying_so_not_a_wait_forever()
    {
        var launcher = Cluster.Slurm("capacity") with { ExtraArguments = ["--cpus-per-task=64"], Immediate = TimeSpan.FromSeconds(2) };

        var started = await Worker.StartAsync(Body.From<int, int>(Bodies.Double), LauncherScenarios.Options(launcher)).WaitAsync(LauncherScenarios.Bound);

        var failure = EitherAssert.Left<ChildFailure.StartFailed, Worker<int, int>>(started);
        Assert.Contains("Slurm has no capacity", failure.Reason, StringComparison.Ordinal);
    }
}
