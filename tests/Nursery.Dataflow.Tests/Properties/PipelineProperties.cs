namespace Nursery.Dataflow.Tests.Properties;

/// <summary>
/// Issue 4, "a pipeline that cannot hang": random pipelines with random per-item faults (throw, exit, SIGKILL, OOM,
/// sleep forever, SIGSTOP, garbage on the protocol channel, slow, a failing initializer) under random policies, run
/// with real children. A failing case prints its plan; FsCheck prints the seed to replay it with
/// <c>[PipelineProperty(1, Replay = "(seed,gamma)")]</c>. NURSERY_PROPERTY_CASES raises the case count for a soak run.
/// </summary>
/// <remarks>Each property is its own class, so xunit runs them in parallel (their children mostly wait).</remarks>
public static class PipelineProperties
{
    /// <summary>Cases per property in CI: 4 × 50 = 200.</summary>
    public const int Cases = 50;
}
