using Xunit.Abstractions;

namespace Nursery.Dataflow.Tests.Properties;

/// <summary>Whatever the plan, no process of the run outlives the scope: none found in /proc with the run's mark, none the stages or bodies named.</summary>
public sealed class NoOrphanProperty
{
    public NoOrphanProperty(ITestOutputHelper output) => PipelineProperties.Note(output);

    [PipelineProperty(typeof(DotnetPlans))]
    public void Afterwards_no_process_the_pipeline_started_is_alive(PipelinePlan plan) => Check(plan);

    [PipelineProperty(typeof(RetriedPlans))]
    public void Afterwards_no_process_is_alive_when_items_are_retried(PipelinePlan plan) => Check(plan);

    [PipelineProperty(typeof(CommandPlans))]
    public void Afterwards_no_process_a_command_stage_started_is_alive(PipelinePlan plan) => Check(plan);

    [PipelineProperty(typeof(StoppedPlans))]
    public void Afterwards_no_process_of_a_run_stopped_by_a_deadline_or_the_caller_is_alive(PipelinePlan plan) => Check(plan);

    private static void Check(PipelinePlan plan)
    {
        var run = PlannedRuns.Run(plan);

        Assert.True(run.AliveAfterwards.Count == 0, run.Describe("processes of the run still alive 5 s after the scope was disposed"));
        Assert.True(run.BodyProcessIds.Count > 0 || !run.Returned || run.Result!.Succeeded == 0, run.Describe("items succeeded but no body recorded its pid: the /proc scan would be blind"));
        run.AssertThePromise();
    }
}
