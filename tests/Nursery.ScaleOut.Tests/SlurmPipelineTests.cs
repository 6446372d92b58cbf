using System.Collections.Concurrent;
using Nursery.ScaleOut.Tests.Support;
using Nursery.TestBodies;
using Nursery.Tests.Support;

namespace Nursery.ScaleOut.Tests;

/// <summary>The pipeline scenarios with one stage's children in Slurm steps: nothing else about the pipeline changes.</summary>
public sealed class SlurmPipelineTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);

    private static NurseryOptions Quick(Policy policy) => new() { DefaultPolicy = policy };

    [SlurmFact]
    public async Task ETL_with_the_mapper_on_Slurm_aborts_on_a_poison_row_with_its_stack_trace_and_leaves_no_job()
    {
        var launcher = Cluster.Slurm("etl-abort");
        var rows = new ConcurrentBag<Row>();
        var lines = Enumerable.Range(0, 300).Select(i => i == 150 ? $"{i};poison" : $"{i};{i}.5");
        var slurm = new StageOptions { Name = "map", Workers = 2, Worker = LauncherScenarios.Options(launcher) with { Name = null } };
        PipelineResult result;
        IReadOnlyList<int> mapPids, convertPids;
        await using (var scope = new NurseryScope(Quick(Policy.FailFast)))
        {
            var map = scope.Stage<string, OrderRecord>(PipelineBodies.Map, slurm);
            var convert = scope.Stage<OrderRecord, Row>(PipelineBodies.Convert, new StageOptions { Name = "convert", Workers = 1 });
            map.LinkTo(convert);
            convert.LinkTo(scope.Sink<Row>(rows.Add));

            result = await scope.RunAsync(lines, map).WaitAsync(Bound);
            mapPids = [.. map.ProcessIds];
            convertPids = [.. convert.ProcessIds];
        }
        var complaint = await launcher.CancelRunAsync();

        Assert.True(result.Aborted, result.ToString());
        var first = Assert.IsType<ChildFailure.Faulted>(result.FirstFailure.Case);
        Assert.Equal("map", first.Stage);
        Assert.Equal("150", first.Key);
        Assert.Equal("System.FormatException", first.Error.Type);
        Assert.Contains("PipelineBodies.Map", first.Error.StackTrace, StringComparison.Ordinal);
        Assert.True(result.IsBalanced, result.ToString());
        Assert.True(complaint.IsNone, complaint.IfNone(""));
        Assert.NotEmpty(mapPids);
        foreach (var pid in mapPids.Concat(convertPids))
            await Processes.AssertGoneAsync(pid, TimeSpan.FromSeconds(10));
        Assert.Equal("", await Cluster.JobsLeftAsync(launcher.RunId));
    }

    [SlurmFact]
    public async Task ETL_with_the_mapper_on_Slurm_and_a_skip_policy_delivers_every_good_row()
    {
        var launcher = Cluster.Slurm("etl-skip");
        var rows = new ConcurrentBag<Row>();
        var lines = Enumerable.Range(0, 300).Select(i => i % 100 == 7 ? $"{i};poison" : $"{i};{i}.5");
        var slurm = new StageOptions { Name = "map", Workers = 2, Worker = LauncherScenarios.Options(launcher) with { Name = null } };
        PipelineResult result;
        IReadOnlyList<int> mapPids;
        await using (var scope = new NurseryScope(Quick(Policy.Skip)))
        {
            var map = scope.Stage<string, OrderRecord>(PipelineBodies.Map, slurm);
            map.LinkTo(scope.Sink<OrderRecord>(record => rows.Add(PipelineBodies.Convert(record))));

            result = await scope.RunAsync(lines, map).WaitAsync(Bound);
            mapPids = [.. map.ProcessIds];
        }
        await launcher.CancelRunAsync();

        Assert.True(result.Completed, result.ToString());
        Assert.Equal(297, result.Succeeded);
        Assert.Equal(297, rows.Count);
        Assert.Equal(["107", "207", "7"], result.Failures.Select(failure => failure.Key).Order());
        Assert.All(result.Failures, failure => Assert.IsType<ChildFailure.Faulted>(failure));
        foreach (var pid in mapPids)
            await Processes.AssertGoneAsync(pid, TimeSpan.FromSeconds(10));
    }
}

/// <summary>Children as steps of one allocation: one scheduling round for many children, released on dispose.</summary>
public sealed class SlurmAllocationTests
{
    [SlurmFact]
    public async Task Two_children_run_side_by_side_as_steps_of_one_allocation_which_dispose_releases()
    {
        var launcher = Cluster.Slurm("alloc");
        var allocation = (await SlurmAllocation.CreateAsync(launcher, tasks: 2, memoryPerTaskMebibytes: 256, TimeSpan.FromSeconds(20)).WaitAsync(LauncherScenarios.Bound))
            .Match(created => created, reason => throw new Xunit.Sdk.XunitException(reason));
        int[] pids;
        await using (allocation)
        {
            await using var children = new Children();
            var options = LauncherScenarios.Options(allocation.Launcher);
            var first = await children.StartAsync(Body.From<int, int>(Bodies.SleepMilliseconds), options);
            var second = await children.StartAsync(Body.From<int, int>(Bodies.SleepMilliseconds), options);

            var both = await Task.WhenAll(first.InvokeAsync(500), second.InvokeAsync(500)).WaitAsync(LauncherScenarios.Bound);

            Assert.Equal([500, 500], both.Select(EitherAssert.Right));
            pids = [first.ProcessId, second.ProcessId];
            Assert.Equal([allocation.JobId], Cluster.Run("squeue", "-h", "-o", "%i", $"--name={launcher.RunId}").Output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        }

        foreach (var pid in pids)
            await Processes.AssertGoneAsync(pid, TimeSpan.FromSeconds(10));
        Assert.Equal("", await Cluster.JobsLeftAsync(launcher.RunId));
    }
}
