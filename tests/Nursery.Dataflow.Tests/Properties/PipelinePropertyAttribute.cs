namespace Nursery.Dataflow.Tests.Properties;

/// <summary>A property over random <see cref="PipelinePlan"/>s: <c>NURSERY_PROPERTY_CASES</c> cases, or the given default.</summary>
public sealed class PipelinePropertyAttribute : FsCheck.Xunit.PropertyAttribute
{
    public PipelinePropertyAttribute(int defaultCases)
    {
        var configured = Environment.GetEnvironmentVariable("NURSERY_PROPERTY_CASES");
        MaxTest = int.TryParse(configured, out var cases) && cases > 0 ? cases : defaultCases;
        Arbitrary = [typeof(PlanGenerators)];
        EndSize = 10;
    }
}
