using Nursery.ScaleOut.Tests.Support;

namespace Nursery.ScaleOut.Tests;

/// <summary>The local worker's failure tests through ssh to the sshd on 127.0.0.1 that .ci/cluster-up starts.</summary>
public sealed class SshLauncherTests
{
    [SshFact]
    public Task An_item_longer_than_the_silence_timeout_completes_over_ssh() => LauncherScenarios.An_item_longer_than_the_silence_timeout_completes(Cluster.Ssh());

    [SshFact]
    public Task A_body_returns_its_result_from_a_child_reached_over_ssh() => LauncherScenarios.A_body_returns_its_result_from_a_child_behind_the_launcher(Cluster.Ssh());

    [SshFact]
    public Task A_throw_over_ssh_is_Faulted_and_the_child_keeps_serving() => LauncherScenarios.A_throw_is_Faulted_and_the_child_keeps_serving(Cluster.Ssh());

    [SshFact]
    public Task An_exit_over_ssh_is_Crashed_with_its_code() => LauncherScenarios.An_exit_is_Crashed_with_its_code(Cluster.Ssh());

    [SshFact]
    public Task A_kill_9_of_a_child_over_ssh_is_Crashed_with_signal_9_not_ssh_255() => LauncherScenarios.A_kill_9_of_the_remote_child_is_Crashed_with_signal_9(Cluster.Ssh());

    [SshFact]
    public Task A_hang_over_ssh_is_TimedOut_and_the_child_is_gone() => LauncherScenarios.A_hang_past_the_item_deadline_is_TimedOut_and_the_remote_child_is_gone(Cluster.Ssh());

    [SshFact]
    public Task Garbage_over_ssh_is_a_ProtocolViolation() => LauncherScenarios.Garbage_on_the_channel_is_a_ProtocolViolation(Cluster.Ssh());

    [SshFact]
    public Task Stray_bytes_from_a_login_script_are_a_StartFailed_not_a_hang() => LauncherScenarios.Stray_bytes_before_the_hello_are_a_StartFailed_naming_them(Cluster.Ssh());

    [SshFact]
    public Task A_missing_child_host_on_the_ssh_host_is_StartFailed() => LauncherScenarios.A_missing_child_host_on_the_remote_side_is_StartFailed(Cluster.Ssh());

    [SshFact]
    public Task A_child_whose_ssh_is_stopped_leaves_by_itself() => LauncherScenarios.A_child_whose_parent_falls_silent_leaves_by_itself(Cluster.Ssh(), $"mark-{Guid.NewGuid():N}");

    [SshFact]
    public Task Disposing_an_ssh_worker_leaves_nothing_running() => LauncherScenarios.Disposing_a_worker_leaves_nothing_running(Cluster.Ssh());

    [SshFact]
    public async Task An_unreachable_host_is_StartFailed_naming_it()
    {
        var launcher = Cluster.Ssh() with { Port = 1 };

        var started = await Worker.StartAsync(Body.From<int, int>(TestBodies.Bodies.Double), LauncherScenarios.Options(launcher)).WaitAsync(LauncherScenarios.Bound);

        var failure = Nursery.Tests.Support.EitherAssert.Left<ChildFailure.StartFailed, Worker<int, int>>(started);
        Assert.Contains("ssh could not reach 127.0.0.1", failure.Reason, StringComparison.Ordinal);
    }

    [SshFact]
    public async Task Children_share_one_connection_per_host_and_are_reaped_without_waiting_for_it()
    {
        var launcher = Cluster.Ssh() with { ConnectionSharing = TimeSpan.FromSeconds(2) };
        var controlDirectory = Path.Combine(Path.GetTempPath(), $"nursery-ssh-{Environment.ProcessId}");
        await using (var children = new Nursery.Tests.Support.Children())
        {
            var first = await children.StartAsync(Body.From<int, int>(TestBodies.Bodies.Double), LauncherScenarios.Options(launcher));
            var second = await children.StartAsync(Body.From<int, int>(TestBodies.Bodies.Double), LauncherScenarios.Options(launcher));

            Assert.Equal(2, Nursery.Tests.Support.EitherAssert.Right(await first.InvokeAsync(1).WaitAsync(LauncherScenarios.Bound)));
            Assert.Equal(4, Nursery.Tests.Support.EitherAssert.Right(await second.InvokeAsync(2).WaitAsync(LauncherScenarios.Bound)));
            Assert.Single(Directory.EnumerateFileSystemEntries(controlDirectory));
        }
    }

    [Fact]
    public void A_memory_limit_over_ssh_is_refused_when_the_worker_starts()
    {
        var options = LauncherScenarios.Options(Launcher.Ssh("node1")) with { MemoryLimit = 64 << 20 };

        var error = Assert.Throws<ArgumentException>(() => options.Validate());

        Assert.Contains("not enforced over ssh", error.Message, StringComparison.Ordinal);
    }
}
