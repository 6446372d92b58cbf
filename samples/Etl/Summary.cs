namespace Nursery.Etl;

/// <summary>The run's outcome, machine-readable (<c>--summary FILE</c>): what the tests and scripts read.</summary>
internal sealed record Summary
{
    public required string Outcome { get; init; }
    public required int ExitCode { get; init; }
    public required string Input { get; init; }
    public required string Database { get; init; }
    public required string JobLog { get; init; }
    public required string Policy { get; init; }
    public required long Inputs { get; init; }
    public required long Succeeded { get; init; }
    public required long Failed { get; init; }
    public required long Resumed { get; init; }
    public required long OrderRows { get; init; }
    public required long RejectRows { get; init; }
    public required long Batches { get; init; }
    public required IReadOnlyDictionary<FailureKind, long> FailedByKind { get; init; }
    public required IReadOnlyDictionary<string, StageProgress> Stages { get; init; }
    public required IReadOnlyDictionary<string, int[]> ProcessIds { get; init; }
    public required double Seconds { get; init; }
    public required string AbortReason { get; init; }
    public required string FirstFailure { get; init; }
}
