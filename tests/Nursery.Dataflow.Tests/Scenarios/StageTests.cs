using System.Collections.Concurrent;
using Nursery.TestBodies;
using Nursery.Tests.Support;

namespace Nursery.Dataflow.Tests.Scenarios;

/// <summary>How stages behave as Dataflow blocks: railway failures, order, links, misuse refused with clear errors.</summary>
public sealed class StageTests
{
    private static readonly TimeSpan Bound = Pipelines.Bound;

    [Fact]
    public async Task A_failure_in_one_stage_passes_through_the_next_untouched_and_is_counted_once()
    {
        var outputs = new ConcurrentBag<Item<int>>();
        await using var scope = new NurseryScope(Pipelines.Quick(Policy.Skip));
        var first = scope.Stage<int, int>(Bodies.ThrowOn13, new StageOptions { Workers = 1 });
        var second = scope.Stage<int, int>(Bodies.Double, new StageOptions { Workers = 1 });
        var mine = new System.Threading.Tasks.Dataflow.ActionBlock<Item<int>>(outputs.Add);
        first.LinkTo(second);
        second.LinkTo(mine, new System.Threading.Tasks.Dataflow.DataflowLinkOptions { PropagateCompletion = true });

        var result = await scope.RunAsync(Enumerable.Range(10, 6), first).WaitAsync(Bound);
        await mine.Completion.WaitAsync(Bound);

        Assert.True(result.Completed, result.ToString());
        Assert.Equal(5, result.Succeeded);
        Assert.Equal(1, result.CountsByKind[FailureKind.Faulted]);
        var failed = Assert.Single(outputs, item => !item.IsSuccess);
        Assert.Equal("3", failed.Key);
        var failure = failed.Value.Match(_ => throw new Xunit.Sdk.XunitException("expected a Left"), f => f);
        Assert.Equal("ThrowOn13", failure.Stage);
        Assert.Equal([40, 44, 48, 56, 60], outputs.Where(item => item.IsSuccess).Select(item => item.Value.Match(v => v, _ => 0)).Order());
    }

    /// <summary>
    /// Items of a run's start are spread over the children as they start: with a hanging item and a failing one among
    /// the first three and no item timeout, the failure still runs in the other child and fails the run fast (the
    /// hanging child is killed). Were items that wait for a start to take whichever child is ready first, the failure
    /// would queue in the child behind the hang, and the run would never return.
    /// </summary>
    [Fact]
    public async Task A_hanging_item_does_not_hold_back_a_failure_at_the_start_of_a_fail_fast_run()
    {
        await using var scope = new NurseryScope(Pipelines.Quick(Policy.FailFast));
        var stage = scope.Stage<int, int>(Bodies.HangOnNegativeThrowOn13, new StageOptions { Workers = 2 });
        var sink = scope.Sink<int>(_ => { });
        stage.LinkTo(sink);

        var result = await scope.RunAsync([-1, 13, 4], stage).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.False(result.Completed);
        var first = Assert.IsType<ChildFailure.Faulted>(result.FirstFailure.Match(failure => failure, () => throw new Xunit.Sdk.XunitException("no first failure")));
        Assert.Contains("13", first.Error.Message, StringComparison.Ordinal);
        Assert.Equal(result.Inputs, result.Succeeded + result.Failed);
        await Processes.AssertAllGoneAsync(stage.ProcessIds);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_run_ends_when_its_items_do_not_after_the_drain_timeout(bool failFast)
    {
        // A scope that completed its blocks by force once every input had ended, while Lefts were still on their way to
        // the sink, would then wait the whole drain timeout. With a ten-minute drain timeout that misses the bound.
        var options = Pipelines.Quick(failFast ? Policy.FailFast : Policy.Skip) with { DrainTimeout = TimeSpan.FromMinutes(10) };
        var seen = new ConcurrentBag<int>();
        await using var scope = new NurseryScope(options);
        var first = scope.Stage<int, int>(Bodies.ThrowOn13, new StageOptions { Workers = 2 });
        var second = scope.Stage<int, int>(Bodies.Double, new StageOptions { Workers = 1 });
        // A slow sink with room for one item: the failures at the end of the source queue up behind the last results.
        var sink = scope.Sink<int>(
            async x =>
            {
                await Task.Delay(5);
                seen.Add(x);
            },
            new SinkOptions { BoundedCapacity = 1 }
        );
        first.LinkTo(second);
        second.LinkTo(sink);
        var source = Enumerable.Range(0, 190).Select(i => i == 13 ? 12 : i).Concat(Enumerable.Repeat(13, 10));

        var result = await scope.RunAsync(source, first).WaitAsync(TimeSpan.FromSeconds(60));

        // Fail fast stops reading the source, so fewer inputs may have been read; every one read is accounted for.
        Assert.InRange(result.Inputs, failFast ? 191 : 200, 200);
        Assert.Equal(result.Inputs, result.Succeeded + result.Failed);
        Assert.Equal(!failFast, result.Completed);
        if (!failFast)
        {
            Assert.Equal(190, result.Succeeded);
            Assert.Equal(190, seen.Count);
            Assert.Equal(10, result.CountsByKind[FailureKind.Faulted]);
        }
        await Processes.AssertAllGoneAsync(first.ProcessIds, second.ProcessIds);
    }

    [Fact]
    public async Task Items_offered_through_a_stages_dataflow_face_by_a_block_of_your_own_are_all_accounted_for()
    {
        // Between blocks of a scope items are handed over in arrays; from your own block they come one by one through
        // the stage's ITargetBlock face. Both ways end in the same queue.
        var seen = new ConcurrentBag<int>();
        await using var scope = new NurseryScope(Pipelines.Quick(Policy.Skip));
        var first = scope.Stage<int, int>(Bodies.ThrowOn13, new StageOptions { Workers = 1 });
        var mine = new System.Threading.Tasks.Dataflow.TransformBlock<Item<int>, Item<int>>(item => item, new System.Threading.Tasks.Dataflow.ExecutionDataflowBlockOptions { BoundedCapacity = 3 });
        var second = scope.Stage<int, int>(Bodies.Double, new StageOptions { Workers = 1, BoundedCapacity = 2 });
        var sink = scope.Sink<int>(seen.Add, new SinkOptions { BoundedCapacity = 1 });
        first.LinkTo(mine);
        mine.LinkTo(second, new System.Threading.Tasks.Dataflow.DataflowLinkOptions { PropagateCompletion = true });
        second.LinkTo(sink);

        var result = await scope.RunAsync(Enumerable.Range(0, 500), first).WaitAsync(Bound);

        // (Items that leave the scope for your block are counted there, so the result's counts are not checked here:
        // items that come back into the scope are counted again, a known limit.)
        Assert.True(result.Completed, result.ToString());
        Assert.Equal(500, result.Inputs);
        Assert.Equal(1, result.CountsByKind[FailureKind.Faulted]);
        Assert.Equal(Enumerable.Range(0, 500).Where(i => i != 13).Select(i => i * 4), seen.Order());
        await Processes.AssertAllGoneAsync(first.ProcessIds, second.ProcessIds);
    }

    [Fact]
    public async Task A_stage_linked_to_two_sinks_gives_each_item_to_one_of_them()
    {
        var left = new ConcurrentBag<int>();
        var right = new ConcurrentBag<int>();
        await using var scope = new NurseryScope(Pipelines.Quick());
        var stage = scope.Stage<int, int>(Bodies.Double, new StageOptions { Workers = 2 });
        stage.LinkTo(scope.Sink<int>(left.Add, new SinkOptions { Name = "left", BoundedCapacity = 4 }));
        stage.LinkTo(scope.Sink<int>(right.Add, new SinkOptions { Name = "right", Parallelism = 2 }));

        var result = await scope.RunAsync(Enumerable.Range(0, 2_000), stage).WaitAsync(Bound);

        Assert.True(result.Completed, result.ToString());
        Assert.Equal(2_000, result.Succeeded);
        Assert.Equal(Enumerable.Range(0, 2_000).Select(i => i * 2), left.Concat(right).Order());
        await Processes.AssertAllGoneAsync(stage.ProcessIds);
    }

    [Fact]
    public async Task A_stage_of_slow_items_does_not_read_its_source_far_ahead()
    {
        // Items that take 2 ms go one per batch; the stage's automatic capacity follows its batches, so the source (of
        // large items, say) is read a few dozen items ahead, not the Workers × ItemsPerWorker (2,048) it could hold.
        const int Items = 600;
        var read = 0;
        var ended = 0;
        var mostAhead = 0;
        IEnumerable<int> Source()
        {
            for (var i = 0; i < Items; i++)
            {
                mostAhead = Math.Max(mostAhead, read - Volatile.Read(ref ended));
                read++;
                yield return 2;
            }
        }
        await using var scope = new NurseryScope(Pipelines.Quick());
        var stage = scope.Stage<int, int>(Bodies.SleepMilliseconds, new StageOptions { Workers = 2 });
        stage.LinkTo(scope.Sink<int>(_ => Interlocked.Increment(ref ended)));

        var result = await scope.RunAsync(Source(), stage).WaitAsync(Bound);

        Assert.True(result.Completed, result.ToString());
        Assert.Equal(Items, Volatile.Read(ref ended));
        Assert.True(mostAhead <= 100, $"the source was read up to {mostAhead} items ahead of the sink");
        await Processes.AssertAllGoneAsync(stage.ProcessIds);
    }

    [Fact]
    public async Task An_ordered_stage_keeps_the_source_order()
    {
        var outputs = new ConcurrentQueue<int>();
        await using var scope = new NurseryScope(Pipelines.Quick());
        var stage = scope.Stage<int, int>(Bodies.SleepMilliseconds, new StageOptions { Workers = 3, ItemsPerWorker = 1, Ordered = true });
        stage.LinkTo(scope.Sink<int>(outputs.Enqueue));
        var delays = new[] { 60, 5, 30, 1, 45, 2, 20, 10 };

        var result = await scope.RunAsync(delays, stage).WaitAsync(Bound);

        Assert.True(result.Completed, result.ToString());
        Assert.Equal(delays, outputs);
    }

    [MemoryCgroupFact]
    public async Task An_item_killed_for_memory_is_retried_in_a_child_with_a_larger_limit()
    {
        var sizes = new ConcurrentBag<int>();
        await using var scope = new NurseryScope(Pipelines.Quick());
        var policy = Policy.Retry(2).WithMoreMemory(4).WithBackoff(TimeSpan.Zero);
        var stage = scope.Stage<int, int>(Bodies.Allocate, new StageOptions { Workers = 1, Worker = new() { MemoryLimit = 96L << 20 }, Policy = policy });
        stage.LinkTo(scope.Sink<int>(sizes.Add));

        var result = await scope.RunAsync([8, 160], stage).WaitAsync(Bound);

        Assert.True(result.Completed, result.ToString());
        Assert.Equal([8, 160], sizes.Order());
        Assert.Contains(result.Records, record => record.Key == "1" && record.Attempt == 1 && record.Outcome == ItemOutcome.Failed(FailureKind.OutOfMemory));
        Assert.Contains(result.Records, record => record.Key == "1" && record.Attempt == 2 && record.Outcome == ItemOutcome.Succeeded);
        await Processes.AssertAllGoneAsync(stage.ProcessIds);
    }

    [Fact]
    public async Task Retry_then_skip_records_every_attempt_and_goes_on()
    {
        await using var scope = new NurseryScope(Pipelines.Quick());
        var policy = Policy.Retry(3).AlsoOnFaulted().WithBackoff(TimeSpan.FromMilliseconds(10)).ThenSkip();
        var stage = scope.Stage<int, int>(Bodies.ThrowOn13, new StageOptions { Workers = 1, Policy = policy });

        var result = await scope.RunAsync([12, 13, 14], stage).WaitAsync(Bound);

        Assert.True(result.Completed, result.ToString());
        Assert.Equal(2, result.Succeeded);
        Assert.Equal([1, 2, 3], result.Records.Where(record => record.Key == "1").Select(record => record.Attempt).Order());
        Assert.Equal(3, Assert.Single(result.Failures).Attempt);
    }

    [Fact]
    public async Task A_worker_is_recycled_after_its_item_quota()
    {
        var pids = new ConcurrentBag<int>();
        await using var scope = new NurseryScope(Pipelines.Quick());
        var stage = scope.Stage<int, int>(Bodies.Pid, new StageOptions { Workers = 1, ItemsPerWorker = 1, RecycleAfter = 5 });
        stage.LinkTo(scope.Sink<int>(pids.Add));

        var result = await scope.RunAsync(Enumerable.Range(0, 20), stage).WaitAsync(Bound);

        Assert.True(result.Completed, result.ToString());
        Assert.Equal(4, pids.Distinct().Count());
        Assert.All(pids.GroupBy(pid => pid), group => Assert.Equal(5, group.Count()));
        await Processes.AssertAllGoneAsync(stage.ProcessIds);
    }

    [Fact]
    public async Task Blocks_from_another_scope_cannot_be_linked()
    {
        await using var one = new NurseryScope();
        await using var other = new NurseryScope();
        var stage = one.Stage<int, int>(Bodies.Double, new StageOptions { Workers = 1 });
        var foreign = other.Sink<int>(_ => { });

        var error = Assert.Throws<ArgumentException>(() => stage.LinkTo(foreign));

        Assert.Contains("different NurseryScopes", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_stage_cannot_send_both_to_scope_blocks_and_to_your_own_blocks()
    {
        await using var scope = new NurseryScope();
        var stage = scope.Stage<int, int>(Bodies.Double, new StageOptions { Workers = 1 });
        stage.LinkTo(scope.Sink<int>(_ => { }));

        var error = Assert.Throws<ArgumentException>(() => stage.LinkTo(new System.Threading.Tasks.Dataflow.BufferBlock<Item<int>>()));

        Assert.Contains("not both", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_scope_runs_once()
    {
        await using var scope = new NurseryScope(Pipelines.Quick());
        var stage = scope.Stage<int, int>(Bodies.Double, new StageOptions { Workers = 1 });
        await scope.RunAsync([1], stage).WaitAsync(Bound);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => scope.RunAsync([2], stage));

        Assert.Contains("runs once", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_capturing_lambda_is_refused_when_the_stage_is_built()
    {
        await using var scope = new NurseryScope();
        var offset = 3;

        var error = Assert.Throws<ArgumentException>(() => scope.Stage<int, int>(x => x + offset));

        Assert.Contains("captures", error.Message, StringComparison.Ordinal);
        Assert.Contains("'offset'", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-2)]
    public async Task A_stage_without_workers_is_refused_naming_the_option(int workers)
    {
        await using var scope = new NurseryScope();

        var error = Assert.Throws<ArgumentException>(() => scope.Stage<int, int>(Bodies.Double, new StageOptions { Workers = workers }));

        Assert.Equal("Workers", error.ParamName);
    }
}
