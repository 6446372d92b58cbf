using FsCheck;
using FsCheck.Fluent;

namespace Nursery.Dataflow.Tests.Properties;

/// <summary>The arbitrary of <see cref="PlanGenerators.StoppedPlans"/>, for <see cref="PipelinePropertyAttribute"/>.</summary>
public static class StoppedPlans
{
    public static Arbitrary<PipelinePlan> Plans() => Arb.From(PlanGenerators.StoppedPlans);
}
