namespace Nursery;

/// <summary>A snapshot of a run's counts.</summary>
/// <param name="Inputs">Items read from the source so far.</param>
/// <param name="Succeeded">Items that came through every stage.</param>
/// <param name="Failed">Items that ended as a failure (any kind, Cancelled included).</param>
/// <param name="InFlight">Items read but not yet ended.</param>
/// <param name="Elapsed">Time since the run started.</param>
public sealed record PipelineProgress(long Inputs, long Succeeded, long Failed, long InFlight, TimeSpan Elapsed)
{
    /// <summary>Attempts per stage (or sink) so far, by stage name: how many came back a success and how many a failure.</summary>
    public IReadOnlyDictionary<string, StageProgress> Stages { get; init; } = new Dictionary<string, StageProgress>();

    /// <summary>Items that ended as a failure so far, by kind (all seven cases, zeros included).</summary>
    public IReadOnlyDictionary<string, long> FailedByKind { get; init; } = new Dictionary<string, long>();

    /// <summary>Items ended per second so far.</summary>
    public double ItemsPerSecond => Elapsed.TotalSeconds > 0 ? (Succeeded + Failed) / Elapsed.TotalSeconds : 0;
}

/// <summary>One stage's attempts so far: successes and failures (a retried item counts each attempt).</summary>
/// <param name="Succeeded">Attempts that came back a success.</param>
/// <param name="Failed">Attempts that came back a failure, whatever the policy then did.</param>
public sealed record StageProgress(long Succeeded, long Failed);
