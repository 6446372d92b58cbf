using Nursery.TestBodies;
using Nursery.Tests.Support;

namespace Nursery.Tests.Supervision;

/// <summary>A pool with <see cref="PoolOptions.WarmSpare"/>: the spare replaces a killed child, counts against the restart intensity, and never outlives the pool.</summary>
public sealed class WarmSpareTests
{
    private static readonly TimeSpan Bound = Children.Bound;

    private static WorkerPool<int, int> SparePool(int initializerMilliseconds = 0, RestartIntensity? intensity = null) =>
        new(
            Body.From<int, int>(SpareBodies.PidAfterSleep).WithInitializer<int>(SpareBodies.SlowInitializer, initializerMilliseconds),
            new PoolOptions { Workers = 1, WarmSpare = true, Worker = Children.Options(), RestartIntensity = intensity ?? new RestartIntensity(10, TimeSpan.FromSeconds(60)) }
        );

    private static async Task<int> ReadySpareAsync(WorkerPool<int, int> pool, int notThis = 0)
    {
        var deadline = DateTime.UtcNow + Bound;
        while (DateTime.UtcNow < deadline)
        {
            if (pool.SpareProcessId is var spare and > 0 && spare != notThis)
                return spare;
            await Task.Delay(20);
        }
        throw new TimeoutException($"no warm spare was ready within {Bound}");
    }

    [Fact]
    public async Task A_killed_child_is_replaced_by_the_ready_spare_and_a_new_spare_is_started()
    {
        var pool = SparePool();
        await using (pool)
        {
            await pool.StartAsync().WaitAsync(Bound);
            var victim = EitherAssert.Right(await pool.InvokeAsync(0, "first").WaitAsync(Bound));
            var spare = await ReadySpareAsync(pool);
            var running = pool.InvokeAsync(60_000, "long");
            await Task.Delay(300);

            Processes.Signal(victim, Processes.SigKill);
            var crashed = EitherAssert.Left<ChildFailure.Crashed, int>(await running.WaitAsync(Bound));
            var next = EitherAssert.Right(await pool.InvokeAsync(0, "next").WaitAsync(Bound));
            var newSpare = await ReadySpareAsync(pool, notThis: spare);

            Assert.Equal("long", crashed.Key);
            Assert.Equal(spare, next);
            Assert.NotEqual(victim, newSpare);
            Assert.Equal(3, pool.Spawns);
            Assert.Equal(new[] { victim, spare, newSpare }.Order(), pool.ProcessIds.Order()); // pids can wrap around: compared as sets
        }
        await Processes.AssertAllGoneAsync(pool.ProcessIds);
    }

    [Fact]
    public async Task Items_run_only_in_children_whose_initializer_has_finished_while_children_die_and_spares_start()
    {
        // A slow initializer: a spare handed items before Ready would answer -1. Each long item writes down the pid of
        // the child it starts in, so the child is killed running it (an item it had not started would run again).
        var record = Path.Combine(Path.GetTempPath(), $"nursery-spare-{Guid.NewGuid():N}.txt");
        var pool = new WorkerPool<int, int>(
            Body.From<int, int>(SpareBodies.PidAfterSleep).WithInitializer<string>(SpareBodies.SlowInitializerRecordingTo, $"300 {record}"),
            new PoolOptions { Workers = 1, WarmSpare = true, Worker = Children.Options(), RestartIntensity = new RestartIntensity(50, TimeSpan.FromSeconds(60)) }
        );
        try
        {
            await using (pool)
            {
                List<int> answers = [];
                for (var round = 0; round < 4; round++)
                {
                    var victim = EitherAssert.Right(await pool.InvokeAsync(0, $"pid{round}").WaitAsync(Bound));
                    var running = pool.InvokeAsync(60_000, $"long{round}");
                    var queued = Enumerable.Range(0, 10).Select(i => pool.InvokeAsync(0, $"q{round}-{i}")).ToArray();
                    await Files.WaitForLineAsync(record, $"{victim}");
                    // The kill comes at a different point of the new spare's slow start each round.
                    await Task.Delay(100 * round);

                    Processes.Signal(victim, Processes.SigKill);
                    EitherAssert.Left<ChildFailure.Crashed, int>(await running.WaitAsync(Bound));
                    answers.AddRange((await Task.WhenAll(queued).WaitAsync(Bound)).Select(EitherAssert.Right));
                }

                Assert.DoesNotContain(-1, answers);
                Assert.Equal(40, answers.Count);
            }
            await Processes.AssertAllGoneAsync(pool.ProcessIds);
        }
        finally
        {
            File.Delete(record);
        }
    }

    [Fact]
    public async Task A_crash_loop_trips_the_restart_intensity_after_as_many_crashes_as_without_a_spare()
    {
        var options = new PoolOptions { Workers = 1, WarmSpare = true, RestartIntensity = new RestartIntensity(2, TimeSpan.FromSeconds(60)), Worker = Children.Options() };
        var pool = new WorkerPool<int, int>(Body.From<int, int>(Bodies.Exit3), options);
        await using (pool)
        {
            var results = new List<LanguageExt.Either<ChildFailure, int>>();
            for (var i = 0; i < 6; i++)
                results.Add(await pool.InvokeAsync(i, $"k{i}").WaitAsync(Bound));

            Assert.All(results.Take(3), result => EitherAssert.Left<ChildFailure.Crashed, int>(result));
            var stopped = EitherAssert.Left<ChildFailure.StartFailed, int>(results[3]);
            Assert.Contains("RestartIntensity", stopped.Reason, StringComparison.Ordinal);
            Assert.All(results.Skip(3), result => EitherAssert.Left<ChildFailure.StartFailed, int>(result));
            Assert.True(pool.Failure.IsSome);
        }
        await Processes.AssertAllGoneAsync(pool.ProcessIds);
    }

    [Fact]
    public async Task Disposing_the_pool_reaps_its_ready_spare()
    {
        var pool = SparePool();
        int spare;
        await using (pool)
        {
            await pool.StartAsync().WaitAsync(Bound);
            spare = await ReadySpareAsync(pool);

            Assert.True(Processes.IsAlive(spare));
        }

        Assert.Contains(spare, pool.ProcessIds);
        await Processes.AssertAllGoneAsync(pool.ProcessIds);
    }

    [Fact]
    public async Task Disposing_the_pool_while_its_spare_is_starting_leaves_no_child()
    {
        var pool = SparePool(initializerMilliseconds: 2_000);
        await using (pool)
        {
            await pool.StartAsync().WaitAsync(Bound);
            await Task.Delay(300);
        }

        Assert.Equal(2, pool.Spawns);
        Assert.Equal(2, pool.ProcessIds.Count);
        await Processes.AssertAllGoneAsync(pool.ProcessIds);
    }
}
