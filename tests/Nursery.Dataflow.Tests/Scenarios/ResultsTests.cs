using LanguageExt;
using Nursery.TestBodies;
using Nursery.Tests.Support;

namespace Nursery.Dataflow.Tests.Scenarios;

/// <summary>
/// A pipeline's end read with <c>await foreach</c> (<see cref="Results{T}"/>), and bodies that take a cancellation
/// token inside a pipeline. Real children; every test checks the pids it started are gone.
/// </summary>
public sealed class ResultsTests
{
    private static readonly TimeSpan Bound = Pipelines.Bound;

    [Fact]
    public async Task Results_give_every_item_successes_and_failures_in_order_and_the_run_counts_each_once()
    {
        await using var scope = new NurseryScope(Pipelines.Quick(Policy.Skip));
        var stage = scope.Stage<int, int>(Bodies.ThrowOn13, new StageOptions { Workers = 2, Ordered = true });
        var results = scope.Results<int>();
        stage.LinkTo(results);

        var run = scope.RunAsync(Enumerable.Range(0, 30), stage);
        var seen = new List<Item<int>>();
        await foreach (var item in results.WithCancellation(new CancellationTokenSource(Bound).Token))
            seen.Add(item);
        var result = await run.WaitAsync(Bound);

        Assert.True(result.Completed, result.ToString());
        Assert.Equal(Enumerable.Range(0, 30).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), seen.Select(item => item.Key));
        Assert.IsType<ChildFailure.Faulted>(seen[13].Value.Match(_ => null!, failure => failure));
        Assert.Equal(Enumerable.Range(0, 30).Where(i => i != 13).Select(i => i * 2), seen.Where(item => item.Value.IsRight).Select(item => EitherAssert.Right(item.Value)));
        Assert.Equal(29, result.Succeeded);
        Assert.Single(result.Failures);
        Assert.True(result.IsBalanced, result.ToString());
        await Processes.AssertAllGoneAsync(stage.ProcessIds);
    }

    [Fact]
    public async Task A_reader_that_stops_reading_stops_the_source_being_read()
    {
        const int Total = 10_000;
        var read = 0;
        IEnumerable<int> Source()
        {
            for (var i = 0; i < Total; i++)
            {
                Interlocked.Increment(ref read);
                yield return i;
            }
        }
        await using var scope = new NurseryScope(Pipelines.Quick());
        var stage = scope.Stage<int, int>(Bodies.Double, new StageOptions { Workers = 1, ItemsPerWorker = 4, BoundedCapacity = 16 });
        var results = scope.Results<int>(new ResultsOptions { BoundedCapacity = 4 });
        stage.LinkTo(results);
        var run = scope.RunAsync(Source(), stage);
        var count = 0;

        await using (var reader = results.GetAsyncEnumerator())
        {
            Assert.True(await reader.MoveNextAsync().AsTask().WaitAsync(Bound));
            count++;
            // The reader pauses: the stage fills what it may hold, and then the source is no longer read.
            await Task.Delay(1000);
            var readWhilePaused = Volatile.Read(ref read);

            Assert.InRange(readWhilePaused, 1, 200);
            while (await reader.MoveNextAsync().AsTask().WaitAsync(Bound))
                count++;
        }
        var result = await run.WaitAsync(Bound);

        Assert.True(result.Completed, result.ToString());
        Assert.Equal(Total, count);
        Assert.Equal(Total, result.Succeeded);
        await Processes.AssertAllGoneAsync(stage.ProcessIds);
    }

    [Fact]
    public async Task Leaving_the_loop_early_aborts_the_run_counts_every_item_and_reaps_the_children()
    {
        await using var scope = new NurseryScope(Pipelines.Quick());
        var stage = scope.Stage<int, int>(Bodies.Double, new StageOptions { Workers = 2 });
        var results = scope.Results<int>();
        stage.LinkTo(results);

        var run = scope.RunAsync(Enumerable.Range(0, 100_000), stage);
        var taken = 0;
        await foreach (var item in results)
        {
            if (++taken == 3)
                break;
        }
        var result = await run.WaitAsync(Bound);

        Assert.False(result.Completed);
        Assert.Equal(AbortCause.Caller, result.AbortCause);
        Assert.Contains("left its loop", result.AbortReason, StringComparison.Ordinal);
        Assert.True(result.Succeeded >= 2, result.ToString());
        Assert.True(result.IsBalanced, result.ToString());
        await Processes.AssertAllGoneAsync(stage.ProcessIds);
    }

    [Fact]
    public async Task Cancelling_the_enumeration_aborts_the_run_and_asks_bodies_that_take_a_token_to_stop_instead_of_waiting_the_kill_grace()
    {
        await using var scope = new NurseryScope(Pipelines.Quick());
        // A kill grace far beyond the test's bound: the run can end in time only if the children stop when asked.
        var stage = scope.Stage<int, int>(StoppableBodies.DoubleOrWaitForStop, new StageOptions { Workers = 2, ItemsPerWorker = 1, Worker = new() { KillGrace = TimeSpan.FromMinutes(5) } });
        var results = scope.Results<int>();
        stage.LinkTo(results);
        using var cancel = new CancellationTokenSource();

        var run = scope.RunAsync([1, -1, -2, -3, -4], stage);
        var seen = new List<int>();
        var reading = Task.Run(async () =>
        {
            await foreach (var item in results.WithCancellation(cancel.Token))
            {
                seen.Add(EitherAssert.Right(item.Value));
                await cancel.CancelAsync();
            }
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => reading.WaitAsync(Bound));
        var result = await run.WaitAsync(Bound);

        Assert.Equal([2], seen);
        Assert.Equal(AbortCause.Caller, result.AbortCause);
        Assert.Equal(5, result.Inputs);
        Assert.True(result.IsBalanced, result.ToString());
        Assert.All(result.Failures, failure => Assert.IsType<ChildFailure.Cancelled>(failure));
        await Processes.AssertAllGoneAsync(stage.ProcessIds);
    }

    [Fact]
    public async Task An_item_past_its_deadline_whose_body_honours_its_token_is_TimedOut_and_the_same_child_runs_the_rest()
    {
        await using var scope = new NurseryScope(Pipelines.Quick(Policy.Skip));
        var options = new StageOptions { Workers = 1, Ordered = true, Worker = new() { ItemTimeout = TimeSpan.FromMilliseconds(500), KillGrace = TimeSpan.FromSeconds(20) } };
        var stage = scope.Stage<int, int>(StoppableBodies.DoubleOrWaitForStop, options);
        var results = scope.Results<int>();
        stage.LinkTo(results);

        var run = scope.RunAsync([1, -1, 2, 3], stage);
        var seen = new List<Either<ChildFailure, int>>();
        await foreach (var item in results.WithCancellation(new CancellationTokenSource(Bound).Token))
            seen.Add(item.Value);
        var result = await run.WaitAsync(Bound);

        Assert.True(result.Completed, result.ToString());
        Assert.Equal(3, result.Succeeded);
        var timedOut = Assert.IsType<ChildFailure.TimedOut>(Assert.Single(result.Failures));
        Assert.False(timedOut.ChildKilled);
        Assert.Equal("1", timedOut.Key);
        Assert.Equal([2, 4, 6], seen.Where(value => value.IsRight).Select(EitherAssert.Right));
        Assert.Single(stage.ProcessIds);
        await Processes.AssertAllGoneAsync(stage.ProcessIds);
    }

    [Fact]
    public async Task Results_are_enumerated_once()
    {
        await using var scope = new NurseryScope(Pipelines.Quick());
        var results = scope.Results<int>();
        await using var first = results.GetAsyncEnumerator();

        var second = Assert.Throws<InvalidOperationException>(() => results.GetAsyncEnumerator());

        Assert.Contains("enumerated once", second.Message, StringComparison.Ordinal);
    }
}
