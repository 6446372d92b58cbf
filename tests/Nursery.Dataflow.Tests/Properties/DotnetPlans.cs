using FsCheck;
using FsCheck.Fluent;

namespace Nursery.Dataflow.Tests.Properties;

/// <summary>The arbitrary of <see cref="PlanGenerators.DotnetPlans"/>, for <see cref="PipelinePropertyAttribute"/>.</summary>
public static class DotnetPlans
{
    public static Arbitrary<PipelinePlan> Plans() => Arb.From(PlanGenerators.DotnetPlans);
}
