namespace Nursery.Dataflow.Tests.Scenarios;

/// <summary>What the scenario tests share: their bound on waits and quick-failing options.</summary>
internal static class Pipelines
{
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);

    public static NurseryOptions Quick(Policy? policy = null) => new() { DefaultPolicy = policy ?? Policy.FailFast };
}
