using System.Diagnostics;
using System.Globalization;
using Nursery.Supervision;
using Nursery.Tests.Support;

namespace Nursery.Tests.Supervision;

/// <summary>Memory cgroups of a parent killed with SIGKILL are removed by the next process that makes one; nothing else is touched.</summary>
public sealed class StaleCgroupTests
{
    [MemoryCgroupFact]
    public async Task The_cgroups_of_a_SIGKILLed_parent_are_removed_when_another_process_makes_its_first_cgroup()
    {
        var root = Root();
        var first = ParentProcess.Start("cgroup");
        var second = (Process?)null;
        try
        {
            var child = await ChildOfAsync(first);
            var stale = CgroupsOf(root, first.Id);
            Assert.NotEmpty(stale);

            Processes.Signal(first.Id, Processes.SigKill);
            await first.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            await Processes.AssertGoneAsync(child, TimeSpan.FromSeconds(5));
            Assert.Equal(stale, CgroupsOf(root, first.Id));

            second = ParentProcess.Start("cgroup");
            await ChildOfAsync(second);

            var deadline = Stopwatch.StartNew();
            while (CgroupsOf(root, first.Id).Count > 0 && deadline.Elapsed < TimeSpan.FromSeconds(10))
                await Task.Delay(50);
            Assert.Empty(CgroupsOf(root, first.Id));
        }
        finally
        {
            foreach (var parent in new[] { first, second })
            {
                if (parent is null)
                    continue;
                if (!parent.HasExited)
                    parent.Kill(entireProcessTree: true);
                await parent.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
                await RemoveAsync(CgroupsOf(root, parent.Id));
                parent.Dispose();
            }
        }
    }

    [MemoryCgroupFact]
    public async Task Only_cgroups_named_by_the_pattern_whose_maker_is_gone_or_was_another_process_are_swept()
    {
        var root = Root();
        var dead = await DeadPidAsync();
        var own = Environment.ProcessId;
        var ownStart = StartTime(own);
        var sweptNames = new[] { $"nursery-{dead}-12345-1", $"nursery-{dead}-7", $"nursery-{own}-1-1", $"nursery-probe-{dead}" };
        var keptNames = new[] { $"nursery-{own}-{ownStart}-999999", $"nursery-{own}-999998", $"nursery-test-{Guid.NewGuid():N}" };
        var all = sweptNames.Concat(keptNames).Select(name => Path.Combine(root, name)).ToList();
        using var sleeper = Process.Start("sleep", "300");
        try
        {
            foreach (var path in all)
                Directory.CreateDirectory(path);
            // A leftover of the dead parent's, still in its cgroup.
            await File.WriteAllTextAsync(Path.Combine(root, sweptNames[0], "cgroup.procs"), sleeper.Id.ToString(CultureInfo.InvariantCulture));

            var removed = await MemoryCgroup.SweepStaleAsync(root).WaitAsync(TimeSpan.FromSeconds(30));

            Assert.Equal(sweptNames.Select(name => Path.Combine(root, name)).Order(), removed.Where(path => sweptNames.Contains(Path.GetFileName(path))).Order());
            Assert.All(sweptNames, name => Assert.False(Directory.Exists(Path.Combine(root, name)), name));
            Assert.All(keptNames, name => Assert.True(Directory.Exists(Path.Combine(root, name)), name));
            await Processes.AssertGoneAsync(sleeper.Id, TimeSpan.FromSeconds(5));
        }
        finally
        {
            if (!sleeper.HasExited)
                sleeper.Kill();
            await RemoveAsync(all);
        }
    }

    private static string Root() => MemoryCgroup.Root ?? throw new Xunit.Sdk.XunitException("no memory cgroup root although cgroups are writable");

    private static async Task<int> DeadPidAsync()
    {
        using var done = Process.Start("true")!;
        await done.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.False(Directory.Exists($"/proc/{done.Id}"));
        return done.Id;
    }

    private static string StartTime(int pid) => Processes.Stat(pid)?[19] ?? throw new InvalidOperationException($"process {pid} is gone");

    /// <summary>The cgroups under <paramref name="root"/> that process <paramref name="pid"/> made.</summary>
    private static List<string> CgroupsOf(string root, int pid) =>
        [.. Directory.EnumerateDirectories(root, $"nursery-{pid}-*").Order()];

    /// <summary>Clean-up: kills what is in each cgroup and removes it.</summary>
    private static async Task RemoveAsync(IEnumerable<string> paths)
    {
        foreach (var path in paths)
        {
            for (var attempt = 0; attempt < 50 && Directory.Exists(path); attempt++)
            {
                try
                {
                    foreach (var line in await File.ReadAllLinesAsync(Path.Combine(path, "cgroup.procs")))
                        _ = Processes.TrySignal(int.Parse(line, CultureInfo.InvariantCulture), Processes.SigKill);
                    Directory.Delete(path);
                }
                catch (IOException)
                {
                    await Task.Delay(20);
                }
            }
        }
    }

    private static async Task<int> ChildOfAsync(Process parent)
    {
        var line = await parent.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.NotNull(line);
        Assert.StartsWith("child ", line, StringComparison.Ordinal);
        return int.Parse(line["child ".Length..], CultureInfo.InvariantCulture);
    }


}
