using Nursery.TestBodies;
using Nursery.Tests.Support;

namespace Nursery.Tests.Supervision;

/// <summary>
/// Batches through a pool of real children (<see cref="WorkerPool{TIn,TOut}.InvokeBatchAsync"/>, <see cref="WorkerPool{TIn,TOut}.MapAsync(IEnumerable{TIn}, CancellationToken)"/>):
/// one completion per batch, yet every item still ends on its own — a throw, a crash, a hang or a cancellation is
/// that item's value, and the rest of the batch goes on.
/// </summary>
public sealed class BatchTests
{
    private static readonly TimeSpan Bound = Children.Bound;

    private static WorkerPool<int, int> Pool(Func<int, int> body, int workers = 1, WorkerOptions? worker = null) =>
        new(Body.From(body), new PoolOptions { Workers = workers, Worker = worker ?? Children.Options(), RestartIntensity = new RestartIntensity(20, TimeSpan.FromSeconds(60)) });

    private static string[] Keys(int count) => [.. Enumerable.Range(0, count).Select(i => $"k{i}")];

    private static async Task AssertAllGoneAsync<TIn, TOut>(WorkerPool<TIn, TOut> pool)
    {
        Assert.NotEmpty(pool.ProcessIds);
        foreach (var pid in pool.ProcessIds)
            await Processes.AssertGoneAsync(pid, TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task A_batch_runs_in_one_child_and_returns_every_result_in_order()
    {
        var pool = Pool(Bodies.Pid, workers: 2);
        await using (pool)
        {
            var results = await pool.InvokeBatchAsync([.. Enumerable.Range(0, 100)], Keys(100)).WaitAsync(Bound);

            Assert.Equal(100, results.Length);
            var pid = results[0].ProcessId;
            Assert.All(results, result => Assert.Equal(pid, EitherAssert.Right(result.Result)));
            Assert.All(results, result => Assert.Equal(pid, result.ProcessId));
        }
        await AssertAllGoneAsync(pool);
    }

    [Fact]
    public async Task A_throw_in_a_batch_is_Faulted_for_that_item_only()
    {
        var pool = Pool(Bodies.ThrowOn13);
        await using (pool)
        {
            var results = await pool.InvokeBatchAsync([.. Enumerable.Range(0, 30)], Keys(30)).WaitAsync(Bound);

            var faulted = EitherAssert.Left<ChildFailure.Faulted, int>(results[13].Result);
            Assert.Equal("k13", faulted.Key);
            Assert.Contains("13 is unlucky", faulted.Error.Message, StringComparison.Ordinal);
            Assert.Equal(Enumerable.Range(0, 30).Where(i => i != 13).Select(i => i * 2), results.Where((_, i) => i != 13).Select(result => EitherAssert.Right(result.Result)));
            Assert.Equal(1, pool.Spawns);
        }
        await AssertAllGoneAsync(pool);
    }

    [Fact]
    public async Task An_item_that_kills_its_child_mid_batch_is_blamed_alone_and_the_rest_of_the_batch_runs_on_the_replacement()
    {
        var pool = Pool(Bodies.ExitOnNegative);
        await using (pool)
        {
            int[] inputs = [1, 2, 3, -1, 5, 6, 7];
            var results = await pool.InvokeBatchAsync(inputs, Keys(inputs.Length)).WaitAsync(Bound);

            var crashed = EitherAssert.Left<ChildFailure.Crashed, int>(results[3].Result);
            Assert.Equal(3, crashed.ExitCode);
            Assert.Equal("k3", crashed.Key);
            Assert.Equal(1, crashed.Attempt);
            Assert.Equal([1, 2, 3, 5, 6, 7], results.Where((_, i) => i != 3).Select(result => EitherAssert.Right(result.Result)));
            Assert.Equal(2, pool.Spawns);
            // The items behind the crash ran in the replacement child.
            Assert.NotEqual(results[3].ProcessId, results[6].ProcessId);
        }
        await AssertAllGoneAsync(pool);
    }

    [Fact]
    public async Task A_hung_item_in_a_batch_is_TimedOut_alone()
    {
        var worker = Children.Options() with { ItemTimeout = TimeSpan.FromSeconds(1) };
        var pool = Pool(Bodies.HangOnNegative, worker: worker);
        await using (pool)
        {
            int[] inputs = [1, 2, -1, 4];
            var results = await pool.InvokeBatchAsync(inputs, Keys(inputs.Length)).WaitAsync(Bound);

            var timedOut = EitherAssert.Left<ChildFailure.TimedOut, int>(results[2].Result);
            Assert.Equal(TimeoutKind.ItemDeadline, timedOut.Limit);
            Assert.Equal("k2", timedOut.Key);
            Assert.Equal([1, 2, 4], results.Where((_, i) => i != 2).Select(result => EitherAssert.Right(result.Result)));
        }
        await AssertAllGoneAsync(pool);
    }

    [Fact]
    public async Task Cancelling_a_batch_kills_the_child_running_its_item_and_drops_the_rest_then_the_pool_goes_on()
    {
        var pool = Pool(Bodies.SleepMilliseconds);
        await using (pool)
        {
            await pool.StartAsync().WaitAsync(Bound);
            var first = Assert.Single(pool.ProcessIds);
            using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
            var results = await pool.InvokeBatchAsync([60_000, 1, 1], Keys(3), cancel.Token).WaitAsync(Bound);

            var running = EitherAssert.Left<ChildFailure.Cancelled, int>(results[0].Result);
            Assert.True(running.ItemStarted);
            Assert.All(results.Skip(1), result => Assert.False(EitherAssert.Left<ChildFailure.Cancelled, int>(result.Result).ItemStarted));
            await Processes.AssertGoneAsync(first, TimeSpan.FromSeconds(5));

            var after = await pool.InvokeBatchAsync([5], ["after"]).WaitAsync(Bound);
            Assert.Equal(5, EitherAssert.Right(after[0].Result));
        }
        await AssertAllGoneAsync(pool);
    }

    [Fact]
    public async Task Keys_must_match_the_inputs()
    {
        var pool = Pool(Bodies.Double);
        await using (pool)
        {
            var error = await Assert.ThrowsAsync<ArgumentException>(() => pool.InvokeBatchAsync([1, 2], ["only one"]));
            Assert.Contains("one key per input", error.Message, StringComparison.Ordinal);
        }
        Assert.Empty(pool.ProcessIds);
    }

    [Fact]
    public async Task MapAsync_yields_every_result_in_input_order_with_failures_as_values()
    {
        var pool = Pool(Bodies.ThrowOn13, workers: 2);
        await using (pool)
        {
            var results = await CollectAsync(pool.MapAsync(Enumerable.Range(0, 5_000))).WaitAsync(Bound);

            Assert.Equal(5_000, results.Count);
            var faulted = EitherAssert.Left<ChildFailure.Faulted, int>(results[13]);
            Assert.Equal("13", faulted.Key);
            Assert.Equal(Enumerable.Range(0, 5_000).Where(i => i != 13).Select(i => i * 2), results.Where((_, i) => i != 13).Select(EitherAssert.Right));
            Assert.Equal(2, pool.Spawns);
        }
        await AssertAllGoneAsync(pool);
    }

    [Fact]
    public async Task MapAsync_over_a_crashing_item_reports_it_and_finishes_the_rest()
    {
        var pool = Pool(Bodies.ExitOnNegative, workers: 2);
        await using (pool)
        {
            var inputs = Enumerable.Range(0, 2_000).Select(i => i == 777 ? -1 : i).ToArray();
            var results = await CollectAsync(pool.MapAsync(inputs)).WaitAsync(Bound);

            Assert.Equal(3, EitherAssert.Left<ChildFailure.Crashed, int>(results[777]).ExitCode);
            Assert.Equal(inputs.Where(i => i >= 0), results.Where((_, i) => i != 777).Select(EitherAssert.Right));
        }
        await AssertAllGoneAsync(pool);
    }

    [Fact]
    public async Task Leaving_MapAsync_early_cancels_the_items_in_flight_and_the_pool_goes_on()
    {
        var pool = Pool(Bodies.SleepMilliseconds, workers: 2);
        await using (pool)
        {
            var firstThree = await TakeAsync(pool.MapAsync(Enumerable.Repeat(20, 10_000)), 3).WaitAsync(Bound);
            Assert.Equal([20, 20, 20], firstThree.Select(EitherAssert.Right));
            var after = await pool.InvokeAsync(7, "after").WaitAsync(Bound);
            Assert.Equal(7, EitherAssert.Right(after));
        }
        await AssertAllGoneAsync(pool);
    }

    /// <summary>Takes the first <paramref name="count"/> items, then leaves the loop (which disposes the enumerator).</summary>
    private static async Task<List<T>> TakeAsync<T>(IAsyncEnumerable<T> source, int count)
    {
        var list = new List<T>();
        await foreach (var item in source)
        {
            list.Add(item);
            if (list.Count == count)
                break;
        }
        return list;
    }

    private static async Task<List<T>> CollectAsync<T>(IAsyncEnumerable<T> source)
    {
        var list = new List<T>();
        await foreach (var item in source)
            list.Add(item);
        return list;
    }
}
