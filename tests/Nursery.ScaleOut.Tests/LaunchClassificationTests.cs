using LanguageExt;
using Nursery.Launch;

namespace Nursery.ScaleOut.Tests;

/// <summary>
/// How a launcher's exit code and stderr lines become one of the seven failures. The lines are the ones Slurm 22.05
/// and OpenSSH 9.2 print; the end-to-end tests reach most of them with real steps, these reach the slow ones (a
/// time limit takes Slurm a minute or more to enforce) without waiting.
/// </summary>
public sealed class LaunchClassificationTests
{
    private static RemoteLaunch Reached(Launcher launcher)
    {
        var remote = new RemoteLaunch(launcher, TimeSpan.FromSeconds(1)) { Target = "node7" };
        remote.Identify("node7", 4242, "17");
        return remote;
    }

    [Fact]
    public void A_step_past_its_time_limit_is_TimedOut_with_the_limit()
    {
        var slurm = Launcher.Slurm() with { TimeLimit = TimeSpan.FromMinutes(10) };

        var verdict = slurm.Classify(0, ["slurmstepd: error: *** STEP 12.0 ON node7 CANCELLED AT 2026-11-23T06:00:00 DUE TO TIME LIMIT ***", "srun: error: node7: task 0: Killed"], Reached(slurm));

        var failure = Assert.IsType<ChildFailure.TimedOut>(verdict.Case);
        Assert.Equal(TimeSpan.FromMinutes(10), failure.LimitValue);
    }

    [Fact]
    public void Out_Of_Memory_from_srun_is_OutOfMemory()
    {
        var slurm = Launcher.Slurm();

        var verdict = slurm.Classify(1, ["srun: error: node7: task 0: Out Of Memory"], Reached(slurm));

        Assert.IsType<ChildFailure.OutOfMemory>(verdict.Case);
    }

    [Fact]
    public void No_capacity_is_StartFailed_saying_what_to_change()
    {
        var slurm = Launcher.Slurm();

        var verdict = slurm.Classify(1, ["srun: error: Unable to allocate resources: Requested node configuration is not available"], new RemoteLaunch(slurm, TimeSpan.FromSeconds(1)));

        var failure = Assert.IsType<ChildFailure.StartFailed>(verdict.Case);
        Assert.Contains("no capacity", failure.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_task_killed_by_a_signal_is_left_to_the_worker_which_reads_128_plus_n()
    {
        var slurm = Launcher.Slurm();

        var verdict = slurm.Classify(137, ["srun: error: node7: task 0: Killed"], Reached(slurm));

        Assert.True(verdict.IsNone);
    }

    [Fact]
    public void Ssh_255_before_the_hello_is_StartFailed_and_after_it_Crashed()
    {
        var ssh = Launcher.Ssh("node7");
        string[] said = ["ssh: connect to host node7 port 22: Connection refused"];

        var before = ssh.Classify(255, said, new RemoteLaunch(ssh, TimeSpan.FromSeconds(1)) { Target = "node7" });
        var after = ssh.Classify(255, said, Reached(ssh));

        Assert.Contains("Connection refused", Assert.IsType<ChildFailure.StartFailed>(before.Case).Reason, StringComparison.Ordinal);
        Assert.Contains("lost the connection", Assert.IsType<ChildFailure.Crashed>(after.Case).Note, StringComparison.Ordinal);
    }

    [Fact]
    public void The_local_launcher_leaves_every_end_to_the_worker()
    {
        Assert.True(Launcher.Local.Classify(255, ["anything"], new RemoteLaunch(Launcher.Local, TimeSpan.Zero)).IsNone);
    }

    [Theory]
    [InlineData("TimeLimit")]
    [InlineData("SilenceTimeout")]
    [InlineData("RunId")]
    public void A_Slurm_setting_out_of_range_is_refused_naming_it(string setting)
    {
        var slurm = setting switch
        {
            "TimeLimit" => Launcher.Slurm() with { TimeLimit = TimeSpan.FromSeconds(20) },
            "SilenceTimeout" => Launcher.Slurm() with { SilenceTimeout = TimeSpan.FromMilliseconds(100) },
            _ => Launcher.Slurm() with { RunId = "two words" },
        };

        var error = Assert.Throws<ArgumentException>(() => new WorkerOptions { Launcher = slurm }.Validate());

        Assert.Contains($"SlurmLauncher.{setting}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_ssh_launcher_needs_a_host()
    {
        Assert.Throws<ArgumentException>(() => Launcher.Ssh());
    }

    [Fact]
    public void The_default_launcher_is_local()
    {
        Assert.Same(Launcher.Local, new WorkerOptions().Launcher);
    }
}
