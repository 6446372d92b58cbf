using Nursery.TestBodies;
using Nursery.Tests.Support;

namespace Nursery.Tests.Supervision;

/// <summary>A pool of real children: replacement, re-dispatch of items a dead child never started, restart intensity.</summary>
public sealed class WorkerPoolTests
{
    private static readonly TimeSpan Bound = Children.Bound;

    [Fact]
    public async Task A_killed_child_is_replaced_and_items_it_never_started_run_elsewhere_on_their_first_attempt()
    {
        var pool = new WorkerPool<int, int>(Body.From<int, int>(Bodies.SleepMilliseconds), new PoolOptions { Workers = 1, Worker = Children.Options() });
        await using (pool)
        {
            await pool.StartAsync().WaitAsync(Bound);
            var victim = Assert.Single(pool.ProcessIds);
            var running = pool.InvokeAsync(60_000, "long");
            var queued = Enumerable.Range(0, 5).Select(i => pool.InvokeAsync(1, $"q{i}")).ToArray();
            await Task.Delay(300);

            Processes.Signal(victim, Processes.SigKill);
            var crashed = EitherAssert.Left<ChildFailure.Crashed, int>(await running.WaitAsync(Bound));
            var rest = await Task.WhenAll(queued).WaitAsync(Bound);

            Assert.Equal("long", crashed.Key);
            Assert.All(rest, result => Assert.Equal(1, EitherAssert.Right(result)));
            Assert.Equal(2, pool.Spawns);
        }
        foreach (var pid in pool.ProcessIds)
            await Processes.AssertGoneAsync(pid, TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Items_queued_behind_an_item_that_kills_its_child_go_to_the_replacement_never_back_to_the_dead_child()
    {
        // A dead child left in its slot until its watcher ran would have re-sent items bounce off it and end Cancelled.
        var options = new PoolOptions { Workers = 1, Worker = Children.Options(), RestartIntensity = new RestartIntensity(20, TimeSpan.FromSeconds(60)) };
        var pool = new WorkerPool<int, int>(Body.From<int, int>(Bodies.ExitOnNegative), options);
        await using (pool)
        {
            for (var round = 0; round < 5; round++)
            {
                var dies = pool.InvokeAsync(-1, $"die{round}");
                var queued = Enumerable.Range(1, 20).Select(i => pool.InvokeAsync(i, $"r{round}-{i}")).ToArray();
                var crashed = EitherAssert.Left<ChildFailure.Crashed, int>(await dies.WaitAsync(Bound));
                var rest = await Task.WhenAll(queued).WaitAsync(Bound);

                Assert.Equal(3, crashed.ExitCode);
                Assert.Equal(Enumerable.Range(1, 20), rest.Select(result => EitherAssert.Right(result)));
            }
        }
        Assert.True(pool.Spawns >= 6, $"each round's replacement child should have been started, saw {pool.Spawns} starts");
        foreach (var pid in pool.ProcessIds)
            await Processes.AssertGoneAsync(pid, TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task A_child_that_keeps_crashing_trips_the_restart_intensity_and_fails_the_pool()
    {
        var options = new PoolOptions { Workers = 1, RestartIntensity = new RestartIntensity(2, TimeSpan.FromSeconds(60)), Worker = Children.Options() };
        var pool = new WorkerPool<int, int>(Body.From<int, int>(Bodies.Exit3), options);
        await using (pool)
        {
            var results = new List<LanguageExt.Either<ChildFailure, int>>();
            for (var i = 0; i < 6; i++)
                results.Add(await pool.InvokeAsync(i, $"k{i}").WaitAsync(Bound));

            Assert.All(results.Take(3), result => EitherAssert.Left<ChildFailure.Crashed, int>(result));
            var stopped = EitherAssert.Left<ChildFailure.StartFailed, int>(results[3]);
            Assert.Contains("RestartIntensity", stopped.Reason, StringComparison.Ordinal);
            Assert.Equal("k3", stopped.Key);
            Assert.True(pool.Failure.IsSome);
            Assert.Equal(3, pool.Spawns);
        }
        foreach (var pid in pool.ProcessIds)
            await Processes.AssertGoneAsync(pid, TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Items_spread_over_every_child_of_the_pool()
    {
        var pool = new WorkerPool<int, int>(Body.From<int, int>(Bodies.Pid), new PoolOptions { Workers = 3, Worker = Children.Options() });
        await using (pool)
        {
            await pool.StartAsync().WaitAsync(Bound);

            var pids = await Task.WhenAll(Enumerable.Range(0, 300).Select(i => pool.InvokeAsync(i, i.ToString(System.Globalization.CultureInfo.InvariantCulture)))).WaitAsync(Bound);

            Assert.Equal(pool.ProcessIds.Order(), pids.Select(EitherAssert.Right).Distinct().Order());
        }
        foreach (var pid in pool.ProcessIds)
            await Processes.AssertGoneAsync(pid, TimeSpan.FromSeconds(5));
    }
}
