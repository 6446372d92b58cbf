using System.Collections.Concurrent;
using Nursery.TestBodies;
using Nursery.Tests.Support;

namespace Nursery.Dataflow.Tests.Scenarios;

/// <summary>The issue's scenarios, each with real children.</summary>
public sealed class ScenarioTests
{
    private static readonly TimeSpan Bound = Pipelines.Bound;

    [Fact]
    public async Task ETL_a_mapper_that_throws_aborts_the_run_with_its_stack_trace_and_nothing_is_committed()
    {
        var transaction = new FakeTransaction();
        var lines = Enumerable.Range(0, 2000).Select(i => i == 1500 ? $"{i};poison" : $"{i};{i}.5");
        await using var scope = new NurseryScope(Pipelines.Quick());
        var map = scope.Stage<string, OrderRecord>(PipelineBodies.Map, new StageOptions { Name = "map", Workers = 10 });
        var convert = scope.Stage<OrderRecord, Row>(PipelineBodies.Convert, new StageOptions { Name = "convert", Workers = 10 });
        var write = scope.Sink<Row>(transaction.Insert, new SinkOptions { Name = "write" });
        map.LinkTo(convert);
        convert.LinkTo(write);

        var result = await scope.RunAsync(lines, map).WaitAsync(Bound);
        transaction.EndWith(result);

        Assert.True(result.Aborted);
        Assert.Equal(AbortCause.Failure, result.AbortCause);
        var first = Assert.IsType<ChildFailure.Faulted>(result.FirstFailure.Case);
        Assert.Equal("map", first.Stage);
        Assert.Equal("1500", first.Key);
        Assert.Equal("System.FormatException", first.Error.Type);
        Assert.Contains("PipelineBodies.Map", first.Error.StackTrace, StringComparison.Ordinal);
        Assert.Matches(@"PipelineBodies\.cs:line \d+", first.Error.StackTrace);
        Assert.Equal(0, transaction.Committed);
        Assert.True(result.IsBalanced, result.ToString());
        await Processes.AssertAllGoneAsync(map.ProcessIds, convert.ProcessIds);
    }

    [Fact]
    public async Task ETL_without_faults_commits_every_row()
    {
        var transaction = new FakeTransaction();
        await using var scope = new NurseryScope(Pipelines.Quick());
        var map = scope.Stage<string, OrderRecord>(PipelineBodies.Map, new StageOptions { Workers = 2 });
        var convert = scope.Stage<OrderRecord, Row>(PipelineBodies.Convert, new StageOptions { Workers = 2 });
        var write = scope.Sink<Row>(transaction.Insert);
        map.LinkTo(convert);
        convert.LinkTo(write);

        var result = await scope.RunAsync(Enumerable.Range(0, 500).Select(i => $"{i};{i}.5"), map).WaitAsync(Bound);
        transaction.EndWith(result);

        Assert.True(result.Completed, result.ToString());
        Assert.Equal(500, transaction.Committed);
        Assert.Equal(500, result.Succeeded);
    }

    [Theory]
    [InlineData("fail-fast")]
    [InlineData("retry")]
    [InlineData("skip")]
    public async Task A_worker_killed_with_kill_9_mid_item_is_handled_by_the_policy(string policyName)
    {
        var markers = Directory.CreateTempSubdirectory("nursery-markers-");
        try
        {
            Policy policy = policyName switch
            {
                "fail-fast" => Policy.FailFast,
                "retry" => Policy.Retry(3).WithBackoff(TimeSpan.Zero),
                _ => Policy.Skip,
            };
            var seen = new ConcurrentBag<int>();
            await using var scope = new NurseryScope(Pipelines.Quick(policy));
            var options = new StageOptions { Workers = 2, ItemsPerWorker = 1, Worker = new WorkerOptions { Environment = new Dictionary<string, string> { ["MARKER_DIR"] = markers.FullName } } };
            var stage = scope.Stage<int, int>(PipelineBodies.BusyOnSeven, options);
            var sink = scope.Sink<int>(seen.Add);
            stage.LinkTo(sink);

            var running = scope.RunAsync(Enumerable.Range(0, 20), stage);
            var busyPid = await WaitForBusyChildAsync(markers);
            Processes.Signal(busyPid, Processes.SigKill);
            var result = await running.WaitAsync(Bound);

            Assert.True(result.IsBalanced, result.ToString());
            switch (policyName)
            {
                case "fail-fast":
                    Assert.True(result.Aborted);
                    var crash = Assert.IsType<ChildFailure.Crashed>(result.FirstFailure.Case);
                    Assert.Equal("7", crash.Key);
                    Assert.Equal(busyPid, crash.ProcessId);
                    break;
                case "retry":
                    Assert.True(result.Completed, result.ToString());
                    Assert.Equal(20, result.Succeeded);
                    Assert.Contains(result.Records, record => record.Key == "7" && record.Attempt == 1 && record.Outcome == ItemOutcome.Failed(FailureKind.Crashed));
                    Assert.Contains(result.Records, record => record.Key == "7" && record.Attempt == 2 && record.Outcome == ItemOutcome.Succeeded);
                    break;
                default:
                    Assert.True(result.Completed, result.ToString());
                    Assert.Equal(19, result.Succeeded);
                    var skipped = Assert.Single(result.Failures);
                    Assert.Equal("7", skipped.Key);
                    Assert.IsType<ChildFailure.Crashed>(skipped);
                    Assert.DoesNotContain(70, seen);
                    break;
            }
            await Processes.AssertAllGoneAsync(stage.ProcessIds);
        }
        finally
        {
            markers.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData("fail-fast")]
    [InlineData("skip")]
    public async Task An_initializer_that_always_throws_fails_the_stage_after_the_restart_limit_without_a_storm(string policy)
    {
        // A stage that cannot keep a child alive can process nothing, so the run aborts whatever the policy.
        await using var scope = new NurseryScope(Pipelines.Quick(policy == "skip" ? Policy.Skip : Policy.FailFast));
        var body = Body.From<long, long>(PipelineBodies.Increment).WithInitializer<string>(PipelineBodies.InitializerThatAlwaysFails, "the license server is down");
        // A generous restart intensity (for children that crash after starting) does not delay the verdict on failed starts.
        var intensity = new RestartIntensity(100, TimeSpan.FromSeconds(30));
        var stage = scope.Stage(body, new StageOptions { Workers = 2, RestartIntensity = intensity, MaxFailedStartsInARow = 3 });

        var result = await scope.RunAsync(Enumerable.Range(0, 50).Select(i => (long)i), stage).WaitAsync(Bound);

        Assert.True(result.Aborted, result.ToString());
        Assert.Equal(AbortCause.StageFailed, result.AbortCause);
        var failure = Assert.IsType<ChildFailure.StartFailed>(result.FirstFailure.Case);
        Assert.Contains("the license server is down", failure.ToString(), StringComparison.Ordinal);
        Assert.InRange(stage.Runner.Spawns, 3, 3 + 1); // three failed starts in a row, plus one the second worker had begun
        Assert.True(result.IsBalanced, result.ToString());
        await Processes.AssertAllGoneAsync(stage.ProcessIds);
    }

    [Fact]
    public async Task A_hung_item_under_an_item_deadline_ends_as_TimedOut_and_the_rest_go_on_under_skip()
    {
        await using var scope = new NurseryScope(Pipelines.Quick(Policy.Skip));
        var stage = scope.Stage<int, int>(PipelineBodies.HangOnThree, new StageOptions { Workers = 2, Worker = new() { ItemTimeout = TimeSpan.FromMilliseconds(500) } });

        var result = await scope.RunAsync(Enumerable.Range(0, 10), stage).WaitAsync(Bound);

        Assert.True(result.Completed, result.ToString());
        Assert.Equal(9, result.Succeeded);
        var timedOut = Assert.IsType<ChildFailure.TimedOut>(Assert.Single(result.Failures));
        Assert.Equal("3", timedOut.Key);
        await Processes.AssertAllGoneAsync(stage.ProcessIds);
    }

    [Fact]
    public async Task A_whole_run_under_an_overall_deadline_ends_and_its_children_are_gone()
    {
        await using var scope = new NurseryScope(Pipelines.Quick() with { Deadline = TimeSpan.FromSeconds(2) });
        var stage = scope.Stage<int, int>(PipelineBodies.HangOnThree, new StageOptions { Workers = 1 });

        var result = await scope.RunAsync(Enumerable.Range(0, 10), stage).WaitAsync(Bound);

        Assert.True(result.Aborted);
        Assert.Equal(AbortCause.Deadline, result.AbortCause);
        Assert.Contains("deadline", result.AbortReason, StringComparison.Ordinal);
        Assert.True(result.IsBalanced, result.ToString());
        Assert.True(result.CountsByKind[FailureKind.Cancelled] > 0);
        await Processes.AssertAllGoneAsync(stage.ProcessIds);
    }

    [Fact]
    public async Task The_callers_token_aborts_the_run_like_a_failure()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(1.5));
        await using var scope = new NurseryScope(Pipelines.Quick());
        var stage = scope.Stage<int, int>(PipelineBodies.HangOnThree, new StageOptions { Workers = 1 });

        var result = await scope.RunAsync(Enumerable.Range(0, 10), stage, cancellationToken: cancel.Token).WaitAsync(Bound);

        Assert.True(result.Aborted);
        Assert.Equal(AbortCause.Caller, result.AbortCause);
        Assert.Contains("caller cancelled", result.AbortReason, StringComparison.Ordinal);
        Assert.True(result.IsBalanced, result.ToString());
        await Processes.AssertAllGoneAsync(stage.ProcessIds);
    }

    [Fact]
    public async Task A_sink_that_throws_aborts_the_run_the_same_way_a_child_does()
    {
        await using var scope = new NurseryScope(Pipelines.Quick());
        var stage = scope.Stage<int, int>(Bodies.Double, new StageOptions { Workers = 2 });
        var sink = scope.Sink<int>(x =>
        {
            if (x == 40)
                throw new IOException("the disk is full");
        });
        stage.LinkTo(sink);

        var result = await scope.RunAsync(Enumerable.Range(0, 200), stage).WaitAsync(Bound);

        Assert.True(result.Aborted);
        Assert.Equal(AbortCause.Failure, result.AbortCause);
        var failure = Assert.IsType<ChildFailure.Faulted>(result.FirstFailure.Case);
        Assert.Equal("System.IO.IOException", failure.Error.Type);
        Assert.Equal("20", failure.Key);
        Assert.Equal(0, failure.ProcessId);
        Assert.True(result.IsBalanced, result.ToString());
        await Processes.AssertAllGoneAsync(stage.ProcessIds);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_sink_action_that_throws_fails_that_item_alone_also_once_records_are_full(bool asynchronous)
    {
        // MaxRecords = 1: after the first item the sink no longer times successes (its fast path for actions that
        // complete at once); a synchronous throw there must still be the item's Faulted failure, timed, under the policy.
        await using var scope = new NurseryScope(Pipelines.Quick(Policy.Skip) with { MaxRecords = 1 });
        var acted = 0;
        var sink = asynchronous
            ? scope.Sink<int>(async x =>
            {
                Interlocked.Increment(ref acted);
                if (x == 500)
                {
                    await Task.Yield();
                    throw new IOException("the disk is full");
                }
            })
            : scope.Sink<int>(x =>
            {
                Interlocked.Increment(ref acted);
                if (x == 500)
                    throw new IOException("the disk is full");
            });

        var result = await scope.RunAsync(Enumerable.Range(0, 1000), sink).WaitAsync(Bound);

        Assert.True(result.Completed, result.ToString());
        Assert.Equal(1000, acted);
        Assert.Equal(999, result.Succeeded);
        var failure = Assert.IsType<ChildFailure.Faulted>(Assert.Single(result.Failures));
        Assert.Equal("500", failure.Key);
        Assert.Equal(sink.Name, failure.Stage);
        Assert.Equal(1, failure.Attempt);
        Assert.Equal("System.IO.IOException", failure.Error.Type);
        Assert.True(result.IsBalanced, result.ToString());
    }

    [Fact]
    public async Task A_faulting_block_of_your_own_aborts_the_run_instead_of_hanging_it()
    {
        await using var scope = new NurseryScope(Pipelines.Quick());
        var stage = scope.Stage<int, int>(Bodies.Double, new StageOptions { Workers = 1, BoundedCapacity = 4 });
        var mine = new System.Threading.Tasks.Dataflow.ActionBlock<Item<int>>(item =>
        {
            if (item.Key == "5")
                throw new InvalidOperationException("my block broke");
        }, new System.Threading.Tasks.Dataflow.ExecutionDataflowBlockOptions { BoundedCapacity = 2 });
        stage.LinkTo(mine);

        var result = await scope.RunAsync(Enumerable.Range(0, 10_000), stage).WaitAsync(Bound);

        Assert.True(result.Aborted);
        Assert.Equal(AbortCause.BlockFaulted, result.AbortCause);
        Assert.Contains("my block broke", result.AbortReason, StringComparison.Ordinal);
        Assert.True(result.IsBalanced, result.ToString());
        await Processes.AssertAllGoneAsync(stage.ProcessIds);
    }

    [Fact]
    public async Task A_job_log_lets_a_second_run_resume_with_only_the_items_that_did_not_succeed()
    {
        var log = Path.Combine(Path.GetTempPath(), $"nursery-joblog-{Guid.NewGuid():N}.tsv");
        try
        {
            await using (var first = new NurseryScope(Pipelines.Quick(Policy.Skip) with { JobLog = log }))
            {
                var stage = first.Stage<int, int>(Bodies.ThrowOn13, new StageOptions { Workers = 2 });
                var result = await first.RunAsync(Enumerable.Range(0, 30), stage).WaitAsync(Bound);
                Assert.Equal(29, result.Succeeded);
            }

            var second = new ConcurrentBag<int>();
            await using var again = new NurseryScope(Pipelines.Quick(Policy.Skip) with { JobLog = log, Resume = true });
            var retried = again.Stage<int, int>(Bodies.Double, new StageOptions { Workers = 1 });
            retried.LinkTo(again.Sink<int>(second.Add));
            var resumed = await again.RunAsync(Enumerable.Range(0, 30), retried).WaitAsync(Bound);

            Assert.Equal(29, resumed.Resumed);
            Assert.Equal(1, resumed.Inputs);
            Assert.Equal([26], second);
            var lines = await File.ReadAllLinesAsync(log);
            Assert.StartsWith("#nursery-joblog 1\tkey\tstage\tattempt\tpid", lines[0], StringComparison.Ordinal);
            Assert.Contains(lines, line => line.StartsWith("13\tThrowOn13\t1\t", StringComparison.Ordinal) && line.Contains("\tFaulted\t", StringComparison.Ordinal));
        }
        finally
        {
            File.Delete(log);
        }
    }

    [Fact]
    public async Task Progress_is_reported_while_the_run_goes_and_at_the_end()
    {
        var reports = new ConcurrentQueue<PipelineProgress>();
        var progress = new SynchronousProgress(reports.Enqueue);
        await using var scope = new NurseryScope(Pipelines.Quick() with { Progress = progress, ProgressInterval = TimeSpan.FromMilliseconds(20) });
        var stage = scope.Stage<int, int>(Bodies.SleepMilliseconds, new StageOptions { Workers = 2 });

        var result = await scope.RunAsync(Enumerable.Repeat(20, 30), stage).WaitAsync(Bound);

        Assert.True(result.Completed);
        Assert.True(reports.Count >= 2);
        Assert.Equal(30, reports.Last().Succeeded);
    }

    private static async Task<int> WaitForBusyChildAsync(DirectoryInfo markers)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            // The body creates the file, then writes its pid: the file may be seen still empty.
            var marker = markers.EnumerateFiles("busy-*").FirstOrDefault();
            if (marker is not null && int.TryParse(await File.ReadAllTextAsync(marker.FullName), System.Globalization.CultureInfo.InvariantCulture, out var pid))
                return pid;
            await Task.Delay(20);
        }
        throw new TimeoutException("item 7 never started");
    }

    private sealed class SynchronousProgress(Action<PipelineProgress> report) : IProgress<PipelineProgress>
    {
        public void Report(PipelineProgress value) => report(value);
    }

    /// <summary>Rows are staged and committed only if the run completed, as a database transaction would.</summary>
    private sealed class FakeTransaction
    {
        private readonly List<Row> _staged = [];

        public int Committed { get; private set; }

        public void Insert(Row row) => _staged.Add(row);

        public void EndWith(PipelineResult result) => Committed = result.Completed ? _staged.Count : 0;
    }
}
