using System.Diagnostics;
using System.Globalization;
using Nursery.TestBodies;
using Nursery.Tests.Support;

namespace Nursery.Tests.Launch;

/// <summary>
/// Whatever a child started goes with it: a process a body started and a process a per-item command's shell started
/// end when the child is disposed, when the child dies, and when the parent is SIGKILLed. The grandchildren are found
/// in /proc by a marker unique to the test in their environment, never by name.
/// </summary>
public sealed class GrandchildTests
{
    private static readonly TimeSpan Bound = Children.Bound;
    private static readonly TimeSpan Gone = TimeSpan.FromSeconds(2);

    /// <summary>How many parents the SIGKILL test kills: NURSERY_GRANDCHILD_KILLS, else 20 (each run is a parent process, a worker and a command).</summary>
    private static int Kills => int.TryParse(Environment.GetEnvironmentVariable("NURSERY_GRANDCHILD_KILLS"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var kills) && kills > 0 ? kills : 20;

    [Fact]
    public async Task Every_child_and_grandchild_is_gone_within_2_seconds_of_each_parent_SIGKILL()
    {
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        using var parallel = new SemaphoreSlim(4);
        await Task.WhenAll(Enumerable.Range(0, Kills).Select(async run =>
        {
            await parallel.WaitAsync();
            try
            {
                var problem = await KillParentOnceAsync(run);
                if (problem is not null)
                    failures.Add(problem);
            }
            finally
            {
                parallel.Release();
            }
        })).WaitAsync(TimeSpan.FromMinutes(10));

        Assert.True(failures.IsEmpty, $"{failures.Count} of {Kills} runs left processes behind:\n{string.Join('\n', failures)}");
    }

    /// <summary>One parent SIGKILL; null when every child and grandchild was gone within 2 s, else what was left.</summary>
    private static async Task<string?> KillParentOnceAsync(int run)
    {
        var marker = $"grandchild-kill-{run}-{Guid.NewGuid():N}";
        using var parent = ParentProcess.Start("grandchildren", marker);
        var hostPid = 0;
        try
        {
            var line = await parent.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
            Assert.NotNull(line);
            var words = line.Split(' ');
            Assert.Equal("child", words[0]);
            hostPid = int.Parse(words[1], CultureInfo.InvariantCulture);
            var sleeper = int.Parse(words[3], CultureInfo.InvariantCulture);
            // The body's sleeper, and the command's two sleeps (its shell's background one and its own).
            await WaitForAsync(() => Marked(marker).Count(pid => CommandName(pid) == "sleep") >= 3, $"run {run}: the grandchildren did not all start");
            Assert.Contains(sleeper, Marked(marker));
            var before = Marked(marker).Concat(InGroup(hostPid)).Append(hostPid).Distinct().ToList();

            Processes.Signal(parent.Id, Processes.SigKill);
            await parent.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));

            var deadline = Stopwatch.StartNew();
            while (deadline.Elapsed < Gone && Alive(before).Count > 0)
                await Task.Delay(10);
            var left = Alive(before).Concat(Marked(marker)).Concat(InGroup(hostPid)).Distinct().ToList();
            return left.Count == 0 ? null : $"run {run}: still alive 2 s after the parent's SIGKILL: {string.Join(", ", left.Select(pid => $"{pid} ({Processes.Describe(pid)})"))}";
        }
        finally
        {
            if (!parent.HasExited)
                parent.Kill(entireProcessTree: true);
            CleanUp(marker, hostPid);
        }
    }

    /// <summary>
    /// A per-item program runs before its group is registered with the orphan guard; if the parent dies in between, the
    /// guard finds it, and what it started, by the mark in their environment.
    /// </summary>
    [Fact]
    public async Task A_program_started_directly_and_not_yet_registered_is_gone_with_its_children_after_the_parent_SIGKILL()
    {
        var marker = $"grandchild-unregistered-{Guid.NewGuid():N}";
        using var parent = ParentProcess.Start("unregistered", marker);
        try
        {
            var line = await parent.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
            Assert.NotNull(line);
            var program = int.Parse(line.Split(' ')[1], CultureInfo.InvariantCulture);
            if (program == 0)
                return;
            await WaitForAsync(() => Marked(marker).Count(pid => CommandName(pid) == "sleep") >= 2, "the program's sleeps did not start");
            var before = Marked(marker).Append(program).Distinct().ToList();

            Processes.Signal(parent.Id, Processes.SigKill);
            await parent.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));

            await AssertAllGoneAsync(before, marker);
        }
        finally
        {
            if (!parent.HasExited)
                parent.Kill(entireProcessTree: true);
            CleanUp(marker, 0);
        }
    }

    /// <summary>
    /// The orphan guard lives only while a runner that started a program directly lives: disposing the last one stops
    /// it, after a last pass that kills what a program left outside its group (here a sleep in a session of its own),
    /// while the parent lives on.
    /// </summary>
    [Fact]
    public async Task Disposing_the_last_per_item_runner_stops_the_orphan_guard_and_kills_what_its_programs_left_behind()
    {
        var marker = $"grandchild-released-{Guid.NewGuid():N}";
        using var parent = ParentProcess.Start("released", marker);
        try
        {
            var line = await parent.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
            Assert.NotNull(line);
            var guard = int.Parse(line.Split(' ')[1], CultureInfo.InvariantCulture);
            if (guard == 0)
                return;
            Assert.True(Processes.IsAlive(guard), $"the guard (pid {guard}) is not running while the runner lives");
            Assert.Equal("released", await parent.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60)));

            Assert.True(Processes.IsGone(guard), $"the guard (pid {guard}) outlived the runner's disposal: {Processes.Describe(guard)}");
            Assert.Empty(Marked(marker));
            Assert.False(parent.HasExited);
        }
        finally
        {
            if (!parent.HasExited)
                parent.Kill(entireProcessTree: true);
            CleanUp(marker, 0);
        }
    }

    [Fact]
    public async Task What_a_body_and_a_commands_shell_started_is_gone_when_they_are_disposed()
    {
        var marker = $"grandchild-dispose-{Guid.NewGuid():N}";
        var environment = new Dictionary<string, string> { ["NURSERY_TEST_MARK"] = marker };
        var worker = EitherAssert.Right(await Worker.StartAsync(Body.From<int, int>(GrandchildBodies.StartDetachedSleeper), Children.Options() with { Environment = environment }).WaitAsync(Bound));
        var runner = new PerItemRunner<string, string>(Command.PerItem<string, string>("sh", "-c", "sleep 300 & sleep 300").WithEnvironment(environment), new PoolOptions { Workers = 1, Worker = Children.Options("cmd") });
        try
        {
            EitherAssert.Right(await worker.InvokeAsync(300).WaitAsync(Bound));
            var busy = runner.InvokeAsync("", "busy");
            await WaitForAsync(() => Marked(marker).Count(pid => CommandName(pid) == "sleep") >= 3, "the grandchildren did not all start");
            var before = Marked(marker).Append(worker.ProcessId).ToList();

            await worker.DisposeAsync().AsTask().WaitAsync(Bound);
            await runner.DisposeAsync().AsTask().WaitAsync(Bound);
            await busy.WaitAsync(Bound);

            await AssertAllGoneAsync(before, marker);
        }
        finally
        {
            CleanUp(marker, worker.ProcessId);
        }
    }

    [Fact]
    public async Task What_a_body_started_is_gone_when_its_child_host_is_killed_with_kill_9()
    {
        var marker = $"grandchild-host-{Guid.NewGuid():N}";
        var environment = new Dictionary<string, string> { ["NURSERY_TEST_MARK"] = marker };
        await using var children = new Children();
        var worker = await children.StartAsync(Body.From<int, int>(GrandchildBodies.StartDetachedSleeper), Children.Options() with { Environment = environment });
        try
        {
            var sleeper = EitherAssert.Right(await worker.InvokeAsync(300).WaitAsync(Bound));
            Assert.Contains(sleeper, Marked(marker));

            Processes.Signal(worker.ProcessId, Processes.SigKill);

            await AssertAllGoneAsync([sleeper, worker.ProcessId], marker);
        }
        finally
        {
            CleanUp(marker, worker.ProcessId);
        }
    }

    [Fact]
    public async Task What_a_commands_shell_started_is_gone_when_the_shell_is_killed_with_kill_9()
    {
        var marker = $"grandchild-command-{Guid.NewGuid():N}";
        var runner = new PerItemRunner<string, string>(Command.PerItem<string, string>("sh", "-c", "sleep 300 & sleep 300").WithEnvironment(new Dictionary<string, string> { ["NURSERY_TEST_MARK"] = marker }), new PoolOptions { Workers = 1, Worker = Children.Options("cmd") });
        await using (runner)
        {
            try
            {
                var busy = runner.InvokeAsync("", "busy");
                await WaitForAsync(() => Marked(marker).Count(pid => CommandName(pid) == "sleep") >= 2, "the command's sleeps did not start");
                var shell = Marked(marker).Single(pid => Processes.Describe(pid).StartsWith("sh -c sleep 300 & sleep 300", StringComparison.Ordinal));
                var before = Marked(marker);

                Processes.Signal(shell, Processes.SigKill);

                var failure = EitherAssert.Left<ChildFailure.Crashed, string>(await busy.WaitAsync(Bound));
                Assert.Equal(9, failure.Signal.IfNone(0));
                await AssertAllGoneAsync(before, marker);
            }
            finally
            {
                CleanUp(marker, 0);
            }
        }
    }

    [Fact]
    public async Task A_command_that_leaves_a_background_process_holding_its_stdout_completes_and_the_process_is_gone()
    {
        var marker = $"grandchild-leftover-{Guid.NewGuid():N}";
        var runner = new PerItemRunner<string, string>(Command.PerItem<string, string>("sh", "-c", "sleep 300 & echo done").WithEnvironment(new Dictionary<string, string> { ["NURSERY_TEST_MARK"] = marker }), new PoolOptions { Workers = 1, Worker = Children.Options("cmd") });
        await using (runner)
        {
            try
            {
                var result = await runner.InvokeAsync("", "k").WaitAsync(Bound);

                Assert.Equal("done", EitherAssert.Right(result));
                await AssertAllGoneAsync([.. runner.ProcessIds], marker);
            }
            finally
            {
                CleanUp(marker, 0);
            }
        }
    }

    /// <summary>A process that left the command's process group (setsid) is out of reach of the group kill; under a memory limit the cgroup is emptied.</summary>
    [MemoryCgroupFact]
    public async Task A_process_that_left_the_group_with_setsid_is_gone_with_its_command_when_there_is_a_memory_cgroup()
    {
        var marker = $"grandchild-setsid-{Guid.NewGuid():N}";
        var options = new PoolOptions { Workers = 1, Worker = Children.Options("cmd") with { MemoryLimit = 256 << 20 } };
        var runner = new PerItemRunner<string, string>(Command.PerItem<string, string>("sh", "-c", "setsid sleep 300 > /dev/null 2>&1 < /dev/null & echo done").WithEnvironment(new Dictionary<string, string> { ["NURSERY_TEST_MARK"] = marker }), options);
        await using (runner)
        {
            try
            {
                var result = await runner.InvokeAsync("", "k").WaitAsync(Bound);

                Assert.Equal("done", EitherAssert.Right(result));
                await AssertAllGoneAsync([.. runner.ProcessIds], marker);
            }
            finally
            {
                CleanUp(marker, 0);
            }
        }
    }

    private static async Task AssertAllGoneAsync(IReadOnlyList<int> pids, string marker)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < Gone && (Alive(pids).Count > 0 || Marked(marker).Count > 0))
            await Task.Delay(10);
        var left = Alive(pids).Concat(Marked(marker)).Distinct().ToList();
        Assert.True(left.Count == 0, $"still alive 2 s later: {string.Join(", ", left.Select(pid => $"{pid} ({Processes.Describe(pid)})"))}");
    }

    private static async Task WaitForAsync(Func<bool> condition, string what)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(30), what);
            await Task.Delay(20);
        }
    }

    private static List<int> Alive(IEnumerable<int> pids) => [.. pids.Where(Processes.IsAlive)];

    /// <summary>The living processes whose environment holds NURSERY_TEST_MARK=<paramref name="marker"/>.</summary>
    private static IReadOnlyList<int> Marked(string marker) => Processes.Marked("NURSERY_TEST_MARK", marker);

    /// <summary>The living processes of process group <paramref name="group"/>.</summary>
    private static List<int> InGroup(int group) =>
        [.. Processes.AllPids().Where(pid => Processes.Stat(pid) is [var state, _, var leader, ..] && leader == group.ToString(CultureInfo.InvariantCulture) && state is not "Z" and not "X")];

    private static string CommandName(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/comm").Trim();
        }
        catch (IOException)
        {
            return "";
        }
    }

    /// <summary>Kills, by pid, what this test started and left (only processes carrying its marker, or in its host's group).</summary>
    private static void CleanUp(string marker, int hostPid)
    {
        foreach (var pid in Marked(marker).Concat(hostPid > 0 ? InGroup(hostPid) : []).Distinct())
        {
            if (pid > 1 && pid != Environment.ProcessId)
                _ = Processes.TrySignal(pid, Processes.SigKill);
        }
    }


}
