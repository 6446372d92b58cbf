using System.Diagnostics;
using Nursery.Tests.Support;

namespace Nursery.Tests.Supervision;

/// <summary>Children die with their parent: a real parent process is SIGKILLed and its child must go too.</summary>
public sealed class OrphanTests
{
    [Theory]
    [InlineData("")]
    [InlineData("thread")]
    public async Task A_child_is_gone_within_2_seconds_of_its_parent_being_killed_with_kill_9(string mode)
    {
        using var parent = ParentProcess.Start(mode.Length > 0 ? [mode] : []);
        var childPid = 0;
        try
        {
            var line = await parent.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
            Assert.NotNull(line);
            Assert.StartsWith("child ", line, StringComparison.Ordinal);
            childPid = int.Parse(line["child ".Length..], System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(Processes.IsAlive(childPid), "the child should be running while its parent lives");

            Processes.Signal(parent.Id, Processes.SigKill);
            await parent.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));

            Assert.True(await Processes.GoneWithinAsync(childPid, TimeSpan.FromSeconds(2)), $"child {childPid} outlived its SIGKILLed parent: {Processes.Describe(childPid)}");
        }
        finally
        {
            if (!parent.HasExited)
                parent.Kill(entireProcessTree: true);
            if (childPid > 0 && Processes.IsAlive(childPid))
                Processes.Signal(childPid, Processes.SigKill);
        }
    }

    [Fact]
    public async Task A_pools_warm_spare_is_gone_within_2_seconds_of_its_parent_being_killed_with_kill_9()
    {
        using var parent = ParentProcess.Start("spare");
        int[] pids = [];
        try
        {
            var line = await parent.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
            Assert.NotNull(line);
            var words = line.Split(' ');
            Assert.Equal(["child", "spare"], [words[0], words[2]]);
            pids = [int.Parse(words[1], System.Globalization.CultureInfo.InvariantCulture), int.Parse(words[3], System.Globalization.CultureInfo.InvariantCulture)];
            Assert.NotEqual(pids[0], pids[1]);
            Assert.All(pids, pid => Assert.True(Processes.IsAlive(pid), $"{pid} should be running while its parent lives"));

            Processes.Signal(parent.Id, Processes.SigKill);
            await parent.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));

            foreach (var pid in pids)
                Assert.True(await Processes.GoneWithinAsync(pid, TimeSpan.FromSeconds(2)), $"{pid} outlived its SIGKILLed parent: {Processes.Describe(pid)}");
        }
        finally
        {
            if (!parent.HasExited)
                parent.Kill(entireProcessTree: true);
            foreach (var pid in pids.Where(Processes.IsAlive))
                Processes.Signal(pid, Processes.SigKill);
        }
    }
}
