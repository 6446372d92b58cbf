using System.Collections.Concurrent;
using Nursery.ScaleOut.Tests.Support;
using Nursery.TestBodies;
using Nursery.Tests.Support;

namespace Nursery.ScaleOut.Tests;

/// <summary>The pipeline scenarios with one stage's children in Slurm steps: nothing else about the pipeline changes.</summary>
public sealed class SlurmPipelineTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);

    private static NurseryOptions Quick(Policy policy) => new() { DefaultPolicy = policy, KillGrace = TimeSpan.FromMilliseconds(500) };

    [SlurmFact]
    public async Task ETL_with_the_mapper_on_Slurm_aborts_on_a_poison_row_with_its_stack_trace_and_leaves_no_job()
    {
        var launcher = Cluster.Slurm("etl-abort");
        var rows = new ConcurrentBag<Row>();
        var lines = Enumerable.Range(0, 300).Select(i => i == 150 ? $"{i};poison" : $"{i};{i}.5");
        var slurm = new StageOptions { Name = "map", Workers = 2, Worker = LauncherScenarios.Options(launcher) };
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
        Assert.Equal("", Cluster.Run("squeue", "-h", $"--name={launcher.RunId}").Output.Trim());
    }

    [SlurmFact]
    public async Task ETL_with_the_mapper_on_Slurm_and_a_skip_policy_delivers_every_good_row()
    {
        var launcher = Cluster.Slurm("etl-skip");
        var rows = new ConcurrentBag<Row>();
        var lines = Enumerable.Range(0, 300).Select(i => i % 100 == 7 ? $"{i};poison" : $"{i};{i}.5");
        var slurm = new StageOptions { Name = "map", Workers = 2, Worker = LauncherScenarios.Options(launcher) };
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
