using Xunit.Abstractions;

namespace Nursery.Dataflow.Tests.Properties;

/// <summary>Whatever the plan, RunAsync returns (see <see cref="PipelineProperties"/>).</summary>
public sealed class NoHangProperty
{
    public NoHangProperty(ITestOutputHelper output) => PipelineProperties.Note(output);

    [PipelineProperty(typeof(DotnetPlans))]
    public void RunAsync_returns_before_a_bound_computed_from_the_plan(PipelinePlan plan) => Check(plan);

    [PipelineProperty(typeof(RetriedPlans))]
    public void RunAsync_returns_before_a_bound_when_items_are_retried(PipelinePlan plan) => Check(plan);

    [PipelineProperty(typeof(CommandPlans))]
    public void RunAsync_returns_before_a_bound_with_command_stages_in_the_pipeline(PipelinePlan plan) => Check(plan);

    [PipelineProperty(typeof(StoppedPlans))]
    public void RunAsync_returns_before_a_bound_when_a_deadline_or_the_caller_stops_the_run(PipelinePlan plan) => Check(plan);

    private static void Check(PipelinePlan plan)
    {
        var run = PlannedRuns.Run(plan);

        Assert.True(run.Returned, run.Describe("RunAsync did not return within the bound"));
        Assert.True(run.DisposedInTime, run.Describe("disposing the scope did not finish within 30 s"));
        run.AssertThePromise();
    }
}
