using Microsoft.Extensions.Logging.Abstractions;
using Nursery.Launch;
using Nursery.Tests.Support;

namespace Nursery.Tests.Launch;

/// <summary>How a kill by the parent ends a child started in a process group of its own.</summary>
public sealed class ChildProcessKillTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task A_child_killed_through_its_process_group_is_seen_exiting_without_waiting_for_CliWraps_process_tree_walk()
    {
        var spec = new LaunchSpec("/usr/bin/setsid", ["sleep", "60"], new Dictionary<string, string>(), Environment.CurrentDirectory, OwnProcessGroup: true);
        var started = await ChildProcess.StartAsync(
            spec,
            static (_, cancellationToken) => Task.Delay(Timeout.Infinite, cancellationToken),
            static (stdout, cancellationToken) => stdout.CopyToAsync(Stream.Null, cancellationToken),
            static _ => { },
            NullLogger.Instance
        ).WaitAsync(Bound);
        var child = started.Match(process => process, reason => throw new InvalidOperationException(reason));
        try
        {
            // The group exists once /usr/bin/setsid has called setsid(); a kill before that (a race with the spawn,
            // seen in a CI run) rightly falls back to CliWrap's tree kill, which is not what this test is about.
            await WaitUntilGroupLeaderAsync(child.ProcessId).WaitAsync(Bound);
            child.Kill();
            var exit = await child.Exit.WaitAsync(Bound);

            // The group's SIGKILL ended it; CliWrap's own kill (a walk of /proc, after which alone CliWrap reports the
            // exit) is held back for a second in case something that left the group holds the pipes, and was not needed.
            Assert.Equal(128 + 9, exit.ExitCode);
            Assert.True(exit.KilledByParent);
            Assert.False(child.TreeKillRequested, "CliWrap's process-tree kill ran although the group's SIGKILL had ended the child");
            await Processes.AssertGoneAsync(child.ProcessId, TimeSpan.FromSeconds(5));
        }
        finally
        {
            if (Processes.IsAlive(child.ProcessId))
                Processes.Signal(child.ProcessId, Processes.SigKill);
        }
    }

    /// <summary>Waits until the process leads its own process group (field 5 of /proc/pid/stat, after the command's parentheses).</summary>
    private static async Task WaitUntilGroupLeaderAsync(int processId)
    {
        while (true)
        {
            var stat = await File.ReadAllTextAsync($"/proc/{processId}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            if (int.Parse(fields[2], System.Globalization.CultureInfo.InvariantCulture) == processId)
                return;
            await Task.Delay(5);
        }
    }
}
