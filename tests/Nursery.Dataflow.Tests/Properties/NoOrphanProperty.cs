namespace Nursery.Dataflow.Tests.Properties;

/// <summary>Issue 4: whatever the plan, no child outlives the scope.</summary>
public sealed class NoOrphanProperty
{
    [PipelineProperty(PipelineProperties.Cases)]
    public void Afterwards_no_process_the_pipeline_started_is_alive(PipelinePlan plan)
    {
        var run = PlannedRuns.Run(plan);

        Assert.True(run.AliveAfterwards.Count == 0, run.Describe("children still alive 5 s after the scope was disposed"));
    }
}
