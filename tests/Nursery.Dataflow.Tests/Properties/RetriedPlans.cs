using FsCheck;
using FsCheck.Fluent;

namespace Nursery.Dataflow.Tests.Properties;

/// <summary>The arbitrary of <see cref="PlanGenerators.RetriedPlans"/>, for <see cref="PipelinePropertyAttribute"/>.</summary>
public static class RetriedPlans
{
    public static Arbitrary<PipelinePlan> Plans() => Arb.From(PlanGenerators.RetriedPlans);
}
