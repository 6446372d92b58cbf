namespace Nursery.Dataflow.Tests.Properties;

/// <summary>
/// A property over random <see cref="PipelinePlan"/>s of one family (<see cref="DotnetPlans"/>, <see cref="RetriedPlans"/>,
/// <see cref="CommandPlans"/> or <see cref="StoppedPlans"/>): <c>NURSERY_PROPERTY_CASES</c> cases, or <see cref="PipelineProperties.Cases"/>;
/// <c>NURSERY_PROPERTY_REPLAY="(seed,gamma)"</c> replays the plans of a printed seed.
/// </summary>
public sealed class PipelinePropertyAttribute : FsCheck.Xunit.PropertyAttribute
{
    public PipelinePropertyAttribute(Type family)
    {
        var configured = Environment.GetEnvironmentVariable("NURSERY_PROPERTY_CASES");
        MaxTest = int.TryParse(configured, out var cases) && cases > 0 ? cases : PipelineProperties.Cases;
        if (Environment.GetEnvironmentVariable("NURSERY_PROPERTY_REPLAY") is { Length: > 0 } replay)
            Replay = replay;
        Arbitrary = [family];
        EndSize = 10;
    }
}
