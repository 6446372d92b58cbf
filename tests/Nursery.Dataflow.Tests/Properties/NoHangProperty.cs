namespace Nursery.Dataflow.Tests.Properties;

/// <summary>Issue 4: whatever the plan, RunAsync returns (see <see cref="PipelineProperties"/>).</summary>
public sealed class NoHangProperty
{
    [PipelineProperty(PipelineProperties.Cases)]
    public void RunAsync_returns_before_a_bound_computed_from_the_plan(PipelinePlan plan)
    {
        var run = PlannedRuns.Run(plan);

        Assert.True(run.Returned, run.Describe("RunAsync did not return within the bound"));
        Assert.True(run.DisposedInTime, run.Describe("disposing the scope did not finish within 30 s"));
    }
}
