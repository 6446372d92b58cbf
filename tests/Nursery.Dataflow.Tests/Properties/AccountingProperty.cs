using Xunit.Abstractions;

namespace Nursery.Dataflow.Tests.Properties;

/// <summary>Whatever the plan, every input ends as exactly one outcome.</summary>
public sealed class AccountingProperty
{
    public AccountingProperty(ITestOutputHelper output) => PipelineProperties.Note(output);

    [PipelineProperty(typeof(DotnetPlans))]
    public void Every_input_ends_as_exactly_one_outcome_and_the_counts_add_up(PipelinePlan plan) => Check(plan);

    [PipelineProperty(typeof(RetriedPlans))]
    public void Every_input_ends_as_exactly_one_outcome_when_items_are_retried(PipelinePlan plan) => Check(plan);

    [PipelineProperty(typeof(CommandPlans))]
    public void Every_input_ends_as_exactly_one_outcome_with_command_stages_in_the_pipeline(PipelinePlan plan) => Check(plan);

    [PipelineProperty(typeof(StoppedPlans))]
    public void Every_input_read_ends_as_exactly_one_outcome_when_a_deadline_or_the_caller_stops_the_run(PipelinePlan plan) => Check(plan);

    private static void Check(PipelinePlan plan)
    {
        var run = PlannedRuns.Run(plan);

        run.AssertEveryInputIsAccountedForOnce();
        run.AssertThePromise();
    }
}
