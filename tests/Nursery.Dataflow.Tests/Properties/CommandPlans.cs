using FsCheck;
using FsCheck.Fluent;

namespace Nursery.Dataflow.Tests.Properties;

/// <summary>The arbitrary of <see cref="PlanGenerators.CommandPlans"/>, for <see cref="PipelinePropertyAttribute"/>.</summary>
public static class CommandPlans
{
    public static Arbitrary<PipelinePlan> Plans() => Arb.From(PlanGenerators.CommandPlans);
}
