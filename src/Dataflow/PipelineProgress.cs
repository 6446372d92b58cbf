namespace Nursery;

/// <summary>A snapshot of a run's counts.</summary>
/// <param name="Inputs">Items read from the source so far.</param>
/// <param name="Succeeded">Items that came through every stage.</param>
/// <param name="Failed">Items that ended as a failure (any kind, Cancelled included).</param>
/// <param name="InFlight">Items read but not yet ended.</param>
/// <param name="Elapsed">Time since the run started.</param>
public sealed record PipelineProgress(long Inputs, long Succeeded, long Failed, long InFlight, TimeSpan Elapsed)
{
    /// <summary>Items ended per second so far.</summary>
    public double ItemsPerSecond => Elapsed.TotalSeconds > 0 ? (Succeeded + Failed) / Elapsed.TotalSeconds : 0;
}
