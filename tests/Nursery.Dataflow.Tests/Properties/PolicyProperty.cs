namespace Nursery.Dataflow.Tests.Properties;

/// <summary>Issue 4: fail fast aborts on an injected fault; skip delivers exactly the items without faults, with their values.</summary>
public sealed class PolicyProperty
{
    [PipelineProperty(PipelineProperties.Cases)]
    public void Fail_fast_aborts_on_an_injected_fault_and_skip_delivers_exactly_the_items_without_faults(PipelinePlan plan)
    {
        var run = PlannedRuns.Run(plan);

        var result = run.Result;
        Assert.True(result is not null, run.Describe("RunAsync did not return"));
        foreach (var item in run.Delivered)
        {
            var planned = plan.Items[item.Index];
            Assert.True(planned.FailingStage is null, run.Describe($"item {item.Index} was delivered although it was planned to fail"));
            Assert.True(item.Value == planned.ExpectedValue, run.Describe($"item {item.Index} was delivered with {item.Value}, expected {planned.ExpectedValue}"));
        }
        if (plan.HasInitializerFailure)
            AssertAStageThatCannotStartAbortsTheRun(plan, run, result);
        else if (!plan.HasItemFaults)
            AssertEveryItemIsDelivered(plan, run, result);
        else if (plan.SkipsFailures)
            AssertExactlyTheItemsWithoutFaultsAreDelivered(plan, run, result);
        else
            AssertTheRunAbortedOnAnInjectedFault(plan, run, result);
    }

    private static void AssertEveryItemIsDelivered(PipelinePlan plan, PlannedRun run, PipelineResult result)
    {
        Assert.True(result.Completed, run.Describe("a plan without faults did not complete"));
        Assert.True(run.Delivered.Count == plan.Items.Count, run.Describe("a plan without faults did not deliver every item"));
    }

    private static void AssertExactlyTheItemsWithoutFaultsAreDelivered(PipelinePlan plan, PlannedRun run, PipelineResult result)
    {
        var expected = plan.Items.Where(item => item.FailingStage is null).Select(item => item.Index).Order().ToArray();
        var delivered = run.Delivered.Select(item => item.Index).Order().ToArray();
        Assert.True(result.Completed, run.Describe("a skipping run aborted"));
        Assert.True(expected.SequenceEqual(delivered), run.Describe($"delivered [{string.Join(',', delivered)}], expected exactly the items without faults [{string.Join(',', expected)}]"));
        foreach (var failure in result.Failures)
            Assert.True(plan.IsInjected(failure), run.Describe($"the failure {failure.Stage}/{failure.Key} {failure.Kind} is not the one planned for the item"));
    }

    private static void AssertTheRunAbortedOnAnInjectedFault(PipelinePlan plan, PlannedRun run, PipelineResult result)
    {
        Assert.True(result.Aborted, run.Describe("a fail-fast run with a fault did not abort"));
        Assert.True(result.AbortCause == AbortCause.Failure, run.Describe($"the abort cause is {result.AbortCause}, expected Failure"));
        var first = result.FirstFailure.Match(failure => failure, () => null!);
        Assert.True(first is not null, run.Describe("an aborted run has no first failure"));
        Assert.True(plan.IsInjected(first), run.Describe($"the first failure {first.Stage}/{first.Key} {first.Kind} is not an injected fault"));
    }

    /// <summary>A stage whose initializer always fails can process nothing, so it aborts the run whatever the policy, unless no item needed it.</summary>
    private static void AssertAStageThatCannotStartAbortsTheRun(PipelinePlan plan, PlannedRun run, PipelineResult result)
    {
        var firstBroken = plan.Stages.Select((stage, index) => (stage, index)).First(pair => pair.stage.InitializerFails).index;
        var someItemNeedsIt = plan.Items.Any(item => item.FailingStage is null || item.FailingStage >= firstBroken);
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
