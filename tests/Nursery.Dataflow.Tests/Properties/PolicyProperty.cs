using Xunit.Abstractions;

namespace Nursery.Dataflow.Tests.Properties;

/// <summary>
/// Fail fast aborts on an injected fault; skip delivers exactly the items without faults (a transient fault
/// that the policy retries is no fault), with their values; a planned deadline or cancellation aborts with its own cause.
/// </summary>
public sealed class PolicyProperty
{
    public PolicyProperty(ITestOutputHelper output) => PipelineProperties.Note(output);

    [PipelineProperty(typeof(DotnetPlans))]
    public void Fail_fast_aborts_on_an_injected_fault_and_skip_delivers_exactly_the_items_without_faults(PipelinePlan plan) => Check(plan);

    [PipelineProperty(typeof(RetriedPlans))]
    public void Retries_deliver_the_items_whose_faults_were_transient_and_retried(PipelinePlan plan) => Check(plan);

    [PipelineProperty(typeof(CommandPlans))]
    public void The_policies_hold_with_command_stages_in_the_pipeline(PipelinePlan plan) => Check(plan);

    [PipelineProperty(typeof(StoppedPlans))]
    public void A_run_stopped_by_a_deadline_or_the_caller_aborts_with_that_cause_or_keeps_the_policies(PipelinePlan plan) => Check(plan);

    private static void Check(PipelinePlan plan)
    {
        var run = PlannedRuns.Run(plan);

        var result = run.Result;
        Assert.True(result is not null, run.Describe("RunAsync did not return"));
        foreach (var item in run.Delivered)
        {
            var planned = plan.Items[item.Index];
            Assert.True(plan.FailingStage(planned) is null, run.Describe($"item {item.Index} was delivered although it was planned to fail"));
            Assert.True(item.Value == planned.ExpectedValue, run.Describe($"item {item.Index} was delivered with {item.Value}, expected {planned.ExpectedValue}"));
        }
        if (plan.Stop.Kind != StopKind.None && result.Aborted && result.AbortCause == plan.Stop.Cause)
            AssertAStoppedRunRecordedOnlyInjectedFailures(plan, run, result);
        else if (plan.HasInitializerFailure)
            AssertAStageThatCannotStartAbortsTheRun(plan, run, result);
        else if (!plan.HasItemFaults)
            AssertEveryItemIsDelivered(plan, run, result);
        else if (plan.SkipsFailures)
            AssertExactlyTheItemsWithoutFaultsAreDelivered(plan, run, result);
        else
            AssertTheRunAbortedOnAnInjectedFault(plan, run, result);
        run.AssertThePromise();
    }

    private static void AssertEveryItemIsDelivered(PipelinePlan plan, PlannedRun run, PipelineResult result)
    {
        Assert.True(result.Completed, run.Describe("a plan without faults did not complete"));
        Assert.True(run.Delivered.Count == plan.Items.Count, run.Describe("a plan without faults did not deliver every item"));
    }

    private static void AssertExactlyTheItemsWithoutFaultsAreDelivered(PipelinePlan plan, PlannedRun run, PipelineResult result)
    {
        var expected = plan.Items.Where(item => plan.FailingStage(item) is null).Select(item => item.Index).Order().ToArray();
        var delivered = run.Delivered.Select(item => item.Index).Order().ToArray();
        Assert.True(result.Completed, run.Describe("a skipping run aborted"));
        Assert.True(expected.SequenceEqual(delivered), run.Describe($"delivered [{string.Join(',', delivered)}], expected exactly the items without faults [{string.Join(',', expected)}]"));
        foreach (var failure in result.Failures)
            Assert.True(plan.IsInjected(failure), run.Describe($"the failure {failure.Stage}/{failure.Key} {failure.Kind} is not the one planned for the item"));
    }

    private static void AssertTheRunAbortedOnAnInjectedFault(PipelinePlan plan, PlannedRun run, PipelineResult result)
    {
        Assert.True(result.Aborted, run.Describe("a fail-fast run with a fault did not abort"));
        var stoppedFirst = plan.Stop.Kind != StopKind.None && result.AbortCause == plan.Stop.Cause;
        Assert.True(result.AbortCause == AbortCause.Failure || stoppedFirst, run.Describe($"the abort cause is {result.AbortCause}, expected Failure"));
        var first = result.FirstFailure.Match(failure => failure, () => null!);
        Assert.True(first is not null, run.Describe("an aborted run has no first failure"));
        Assert.True(plan.IsInjected(first), run.Describe($"the first failure {first.Stage}/{first.Key} {first.Kind} is not an injected fault"));
    }

    /// <summary>A run its deadline or caller stopped: whatever failed before the stop was planned; the rest is Cancelled.</summary>
    private static void AssertAStoppedRunRecordedOnlyInjectedFailures(PipelinePlan plan, PlannedRun run, PipelineResult result)
    {
        foreach (var failure in result.Failures)
            Assert.True(failure is ChildFailure.Cancelled || plan.IsInjected(failure), run.Describe($"the failure {failure.Stage}/{failure.Key} {failure.Kind} of a stopped run is neither planned nor Cancelled"));
    }

    /// <summary>A stage whose initializer always fails can process nothing, so it aborts the run whatever the policy, unless no item needed it.</summary>
    private static void AssertAStageThatCannotStartAbortsTheRun(PipelinePlan plan, PlannedRun run, PipelineResult result)
    {
        var firstBroken = plan.Stages.Select((stage, index) => (stage, index)).First(pair => pair.stage.InitializerFails).index;
        var someItemNeedsIt = plan.Items.Any(item => plan.FailingStage(item) is null || plan.FailingStage(item) >= firstBroken);
        if (result.Completed)
        {
            Assert.True(!someItemNeedsIt && plan.SkipsFailures, run.Describe("the run completed although an item had to go through a stage that cannot start"));
            return;
        }
        var first = result.FirstFailure.Match(failure => failure, () => null!);
        Assert.True(first is not null, run.Describe("an aborted run has no first failure"));
        Assert.True(result.AbortCause is AbortCause.StageFailed or AbortCause.Failure, run.Describe($"the abort cause is {result.AbortCause}"));
        Assert.True(result.AbortCause == AbortCause.StageFailed || !plan.SkipsFailures, run.Describe("a skipping run aborted on an item failure"));
        Assert.True(plan.IsInjected(first), run.Describe($"the first failure {first.Stage}/{first.Key} {first.Kind} is not an injected fault"));
    }
}
