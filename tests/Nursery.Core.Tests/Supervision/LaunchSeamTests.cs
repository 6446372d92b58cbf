using Nursery.TestBodies;
using Nursery.Tests.Support;

namespace Nursery.Tests.Supervision;

/// <summary>What the pool and the wire ask of a launcher, without knowing which launcher it is.</summary>
public sealed class LaunchSeamTests
{
    private static readonly ChildHostLocation Elsewhere = new("/opt/nursery/Nursery.ChildHost.dll", "/opt/dotnet/dotnet");

    [Fact]
    public async Task A_disposed_pool_asks_its_Slurm_launcher_to_cancel_every_step_under_its_run_id()
    {
        var folder = Directory.CreateTempSubdirectory("nursery-scancel-");
        try
        {
            var record = Path.Combine(folder.FullName, "arguments");
            var scancel = Path.Combine(folder.FullName, "scancel");
            await File.WriteAllTextAsync(scancel, $"#!/bin/sh\necho \"$@\" >> '{record}'\n");
            if (!OperatingSystem.IsWindows())
                File.SetUnixFileMode(scancel, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            var launcher = Launcher.Slurm() with { ScancelExecutable = scancel };
            var pool = new WorkerPool<int, int>(Body.From<int, int>(Bodies.SleepMilliseconds), new PoolOptions { Workers = 1, StartEagerly = false, Worker = Children.Options() with { Launcher = launcher } });

            await pool.DisposeAsync().AsTask().WaitAsync(Children.Bound);

            Assert.True(File.Exists(record), "scancel was not run when the pool was disposed");
            Assert.Equal($"--name={launcher.RunId}", (await File.ReadAllTextAsync(record)).Trim());
            Assert.Empty(pool.ProcessIds);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public void A_remote_launcher_finds_the_child_host_at_its_own_location_when_it_names_one()
    {
        var options = Children.Options();

        Assert.Equal(Elsewhere, (Launcher.Slurm() with { RemoteHost = Elsewhere }).HostFor(options));
        Assert.Equal(Elsewhere, (Launcher.Ssh("node1") with { RemoteHost = Elsewhere }).HostFor(options));
        Assert.Equal(options.Host, Launcher.Slurm().HostFor(options));
        Assert.Equal(options.Host, Launcher.Ssh("node1").HostFor(options));
        Assert.Equal(options.Host, Launcher.Local.HostFor(options));
    }

    [Fact]
    public void Only_launchers_that_run_the_child_behind_another_program_are_remote()
    {
        Assert.False(Launcher.Local.IsRemote);
        Assert.True(Launcher.Slurm().IsRemote);
        Assert.True(Launcher.Ssh("node1").IsRemote);
    }
}
