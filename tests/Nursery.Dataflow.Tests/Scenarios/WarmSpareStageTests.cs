using System.Collections.Concurrent;
using Nursery.TestBodies;
using Nursery.Tests.Support;

namespace Nursery.Dataflow.Tests.Scenarios;

/// <summary>A stage with <see cref="PoolOptions.WarmSpare"/>: children that die are replaced, every input is accounted for once, and no child, the spare included, outlives the run.</summary>
public sealed class WarmSpareStageTests
{
    private static readonly TimeSpan Bound = Pipelines.Bound;

    [Fact]
    public async Task A_stage_whose_children_die_now_and_then_accounts_for_every_input_once_and_leaves_no_child()
    {
        int[] inputs = [.. Enumerable.Range(1, 60).Select(i => i % 15 == 0 ? -i : i)];
        var seen = new ConcurrentBag<int>();
        Stage<int, int> stage;
        PipelineResult result;
        await using (var scope = new NurseryScope(Pipelines.Quick(Policy.Skip)))
        {
            stage = scope.Stage<int, int>(Bodies.ExitOnNegative, new StageOptions { Workers = 2, WarmSpare = true, RestartIntensity = new RestartIntensity(20, TimeSpan.FromSeconds(60)) });
            var sink = scope.Sink<int>(seen.Add);
            stage.LinkTo(sink);

            result = await scope.RunAsync(inputs, stage).WaitAsync(Bound);
        }

        Assert.True(result.Completed, result.ToString());
        Assert.Equal(4, result.CountsByKind[FailureKind.Crashed]);
        Assert.Equal(inputs.Where(i => i > 0).Order(), seen.Order());
        Assert.Equal(result.Inputs, result.Succeeded + result.Failed);
        await Processes.AssertAllGoneAsync(stage.ProcessIds);
    }

    [Fact]
    public async Task A_fail_fast_abort_reaps_the_stages_warm_spare_with_its_children()
    {
        Stage<int, int> stage;
        PipelineResult result;
        await using (var scope = new NurseryScope(Pipelines.Quick(Policy.FailFast)))
        {
            stage = scope.Stage<int, int>(Bodies.ThrowOn13, new StageOptions { Workers = 1, WarmSpare = true });
            var sink = scope.Sink<int>(_ => { });
            stage.LinkTo(sink);

            result = await scope.RunAsync(SlowSource(), stage).WaitAsync(Bound);
            Assert.False(result.Completed);
            await Processes.AssertAllGoneAsync(stage.ProcessIds);
        }

        Assert.True(stage.ProcessIds.Count >= 2, $"the spare should have been started: pids {string.Join(", ", stage.ProcessIds)}");
    }

    /// <summary>Items 0 to 12 quickly, then 13 (which throws) after a pause long enough for the spare to have started.</summary>
    private static async IAsyncEnumerable<int> SlowSource()
    {
        for (var i = 0; i < 13; i++)
            yield return i;
        await Task.Delay(1_500);
        yield return 13;
        for (var i = 14; i < 20; i++)
            yield return i;
    }
}
