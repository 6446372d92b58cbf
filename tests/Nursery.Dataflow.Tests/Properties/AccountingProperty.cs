using System.Globalization;
using Xunit.Abstractions;

namespace Nursery.Dataflow.Tests.Properties;

/// <summary>Issue 4: whatever the plan, every input ends as exactly one outcome.</summary>
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

        var result = run.Result;
        Assert.True(result is not null, run.Describe("RunAsync did not return"));
        var succeeded = run.Delivered.Select(item => item.Index.ToString(CultureInfo.InvariantCulture)).ToArray();
        var failed = result.Failures.Select(failure => failure.Key).ToArray();
        var outcomes = succeeded.Concat(failed).Order(StringComparer.Ordinal).ToArray();
        // An aborted run stops reading the source, so its inputs are the first Inputs items; a completed run read them all.
        var read = result.Completed ? plan.Items.Count : (int)result.Inputs;
        var inputs = plan.Items.Take(read).Select(item => item.Index.ToString(CultureInfo.InvariantCulture)).Order(StringComparer.Ordinal).ToArray();
        Assert.True(result.IsBalanced, run.Describe("the result is not balanced"));
        Assert.True(result.Inputs == read && read <= plan.Items.Count, run.Describe($"Inputs is {result.Inputs}, expected {read} of {plan.Items.Count}"));
        Assert.True(result.Succeeded == succeeded.Length, run.Describe($"Succeeded is {result.Succeeded} but the sink got {succeeded.Length}"));
        Assert.True(result.Failed == failed.Length, run.Describe($"Failed is {result.Failed} but Failures lists {failed.Length}"));
        Assert.True(outcomes.SequenceEqual(inputs), run.Describe($"outcomes by key [{string.Join(',', outcomes)}] are not each input once [{string.Join(',', inputs)}]"));
        run.AssertThePromise();
    }
}
