using System.Diagnostics;
using Nursery.Launch;
using Nursery.Tests.Support;

namespace Nursery.Tests.Commands;

/// <summary>Per-item programs started with one posix_spawn (Linux, no memory limit), and the orphan guard that kills their groups if this process dies.</summary>
public sealed class DirectLaunchTests
{
    private static readonly TimeSpan Bound = Children.Bound;

    private static PoolOptions Options(TimeSpan? itemTimeout = null) =>
        new() { Workers = 2, Worker = Children.Options("cmd") with { ItemTimeout = itemTimeout ?? Timeout.InfiniteTimeSpan } };

    [Fact]
    public async Task A_program_started_from_a_thread_that_exits_at_once_is_not_killed_with_the_thread()
    {
        var runner = new PerItemRunner<string, string>(Command.PerItem<string, string>("sh", "-c", "sleep 0.5; echo alive"), Options());
        await using (runner)
        {
            Task<LanguageExt.Either<ChildFailure, string>>? item = null;
            var thread = new Thread(() => item = runner.InvokeAsync("", "k"));
            thread.Start();
            thread.Join();

            Assert.Equal("alive", EitherAssert.Right(await item!.WaitAsync(Bound)));
        }
        await AssertGoneAsync(runner);
    }

    [Fact]
    public async Task A_program_gets_SIGPIPE_back_at_its_default_so_yes_piped_into_head_ends_quietly()
    {
        var runner = new PerItemRunner<string, string>(Command.PerItem<string, string>("sh", "-c", "exec 3>&1; { yes; echo $? >&3; } | head -1 > /dev/null"), Options());
        await using (runner)
        {
            var result = await runner.InvokeAsync("", "k").WaitAsync(Bound);

            // 128 + 13: yes was ended by SIGPIPE, not told of a write error (exit 1) as it is with the signal ignored.
            Assert.Equal("141", EitherAssert.Right(result));
        }
        await AssertGoneAsync(runner);
    }

    [Fact]
    public async Task A_program_leads_a_session_of_its_own_and_is_the_pid_reported()
    {
        var runner = new PerItemRunner<string, string>(Command.PerItem<string, string>("sh", "-c", "echo $$ $(ps -o sid= -p $$) $(ps -o pgid= -p $$)"), Options());
        await using (runner)
        {
            var words = EitherAssert.Right(await runner.InvokeAsync("", "k").WaitAsync(Bound)).Split(' ', StringSplitOptions.RemoveEmptyEntries);

            Assert.Equal([runner.ProcessIds.Single().ToString(System.Globalization.CultureInfo.InvariantCulture)], words.Distinct());
        }
        await AssertGoneAsync(runner);
    }

    [Fact]
    public async Task A_file_that_is_not_executable_is_StartFailed_with_a_clear_message()
    {
        var file = Path.Combine(Path.GetTempPath(), $"nursery-not-executable-{Guid.NewGuid():N}");
        await File.WriteAllTextAsync(file, "#!/bin/sh\necho never\n");
        try
        {
            var runner = new PerItemRunner<string, string>(Command.PerItem<string, string>(file), Options());
            await using (runner)
            {
                var failure = EitherAssert.Left<ChildFailure.StartFailed, string>(await runner.InvokeAsync("", "k").WaitAsync(Bound));

                Assert.Contains($"cannot start '{file}': Permission denied", failure.Reason, StringComparison.Ordinal);
                Assert.Contains("is executable", failure.Reason, StringComparison.Ordinal);
                Assert.Equal(0, runner.Spawns);
            }
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task An_executable_script_without_a_shebang_runs_under_sh_as_it_would_from_a_shell()
    {
        var file = Path.Combine(Path.GetTempPath(), $"nursery-no-shebang-{Guid.NewGuid():N}");
        await File.WriteAllTextAsync(file, "echo from the script\n");
        File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        try
        {
            var runner = new PerItemRunner<string, string>(Command.PerItem<string, string>(file), Options());
            await using (runner)
            {
                var result = await runner.InvokeAsync("", "k").WaitAsync(Bound);

                Assert.Equal("from the script", EitherAssert.Right(result));
            }
            await AssertGoneAsync(runner);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Items_complete_when_the_guard_is_killed_and_its_successor_takes_their_groups_over()
    {
        var gate = Path.Combine(Path.GetTempPath(), $"nursery-guard-gate-{Guid.NewGuid():N}");
        var command = Command.PerItem<string, string>("sh", "-c", "while [ ! -e \"$0\" ]; do sleep 0.02; done; echo {}", gate);
        var runner = new PerItemRunner<string, string>(command, Options());
        try
        {
            await using (runner)
            {
                var first = runner.InvokeAsync("one", "1");
                var second = runner.InvokeAsync("two", "2");
                await WaitForAsync(() => runner.ProcessIds.Count == 2 && OrphanGuard.ProcessId > 0, "the items or the guard did not start");
                var guard = OrphanGuard.ProcessId;

                Processes.Signal(guard, Processes.SigKill);
                await WaitForAsync(() => OrphanGuard.ProcessId is > 0 and var next && next != guard, "no new guard was started");
                await File.WriteAllTextAsync(gate, "");

                Assert.Equal("one", EitherAssert.Right(await first.WaitAsync(Bound)));
                Assert.Equal("two", EitherAssert.Right(await second.WaitAsync(Bound)));
                await Processes.AssertGoneAsync(guard, TimeSpan.FromSeconds(5));
            }
            await AssertGoneAsync(runner);
        }
        finally
        {
            File.Delete(gate);
        }
    }

    /// <summary>
    /// A program's pipes are read and written without holding a pool thread: in a parent whose thread pool cannot grow
    /// past one thread per core, one program more than there are cores, each waiting for all of them to have read their
    /// stdin, all complete (a blocking read per pipe would hold every thread while a program's stdin waits in the queue).
    /// </summary>
    [Fact]
    public async Task Programs_waiting_on_each_other_complete_when_the_parents_thread_pool_cannot_grow()
    {
        var directory = Directory.CreateTempSubdirectory("nursery-one-pool-thread-").FullName;
        var marker = $"one-pool-thread-{Guid.NewGuid():N}";
        using var parent = ParentProcess.Start("one-pool-thread-per-core", directory, marker);
        try
        {
            var line = await parent.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));

            Assert.NotNull(line);
            var results = line.Split(' ')[1..];
            Assert.True(results.Length >= 2, line);
            Assert.Equal(Enumerable.Range(0, results.Length).Select(index => $"item{index}"), results);
            await parent.WaitForExitAsync().WaitAsync(Bound);
            Assert.Empty(Processes.Marked("NURSERY_TEST_MARK", marker));
        }
        finally
        {
            if (!parent.HasExited)
                parent.Kill(entireProcessTree: true);
            foreach (var pid in Processes.Marked("NURSERY_TEST_MARK", marker))
                _ = Processes.TrySignal(pid, Processes.SigKill);
            Directory.Delete(directory, recursive: true);
        }
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

    private static async Task AssertGoneAsync<TIn, TOut>(PerItemRunner<TIn, TOut> runner)
    {
        foreach (var pid in runner.ProcessIds)
            await Processes.AssertGoneAsync(pid, TimeSpan.FromSeconds(5));
    }
}
