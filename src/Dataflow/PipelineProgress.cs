using System.Globalization;
using System.Text;

namespace Nursery;

/// <summary>
/// A snapshot of a run's counts, consistent in itself: <see cref="Done"/> is <see cref="Succeeded"/> plus
/// <see cref="Failed"/>, <see cref="Failed"/> is the sum of <see cref="FailedByKind"/>, <see cref="Inputs"/> is
/// <see cref="Done"/> plus <see cref="InFlight"/>; no count is negative, and none is lower than in an earlier snapshot.
/// </summary>
/// <param name="Inputs">Items read from the source so far.</param>
/// <param name="Succeeded">Items that came through every stage.</param>
/// <param name="Failed">Items that ended as a failure (any kind, Cancelled included).</param>
/// <param name="InFlight">Items read but not yet ended.</param>
/// <param name="Elapsed">Time since the run started.</param>
public sealed record PipelineProgress(long Inputs, long Succeeded, long Failed, long InFlight, TimeSpan Elapsed)
{
    /// <summary>Attempts per stage (or sink) so far, by stage name: how many came back a success and how many a failure.</summary>
    public IReadOnlyDictionary<string, StageProgress> Stages { get; init; } = new Dictionary<string, StageProgress>();

    /// <summary>Items that ended as a failure so far, by <see cref="FailureKind"/> (all seven, zeros included).</summary>
    public IReadOnlyDictionary<FailureKind, long> FailedByKind { get; init; } = new Dictionary<FailureKind, long>();

    /// <summary>Items skipped so far because the job log records them as done by an earlier run (resume); not in <see cref="Inputs"/>.</summary>
    public long Resumed { get; init; }

    /// <summary>Items that have ended: <see cref="Succeeded"/> plus <see cref="Failed"/>.</summary>
    public long Done => Succeeded + Failed;

    /// <summary>Items ended per second so far.</summary>
    public double ItemsPerSecond => Elapsed.TotalSeconds > 0 ? Done / Elapsed.TotalSeconds : 0;

    /// <summary>One readable line: items done, ok, failed (by kind), in flight, resumed, the rate and each stage's attempts.</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{Done:N0} of {Inputs:N0} items done in {Units.Duration(Elapsed)}: {Succeeded:N0} ok, {Failed:N0} failed");
        var kinds = string.Join(", ", FailedByKind.Where(pair => pair.Value > 0).Select(pair => string.Create(CultureInfo.InvariantCulture, $"{pair.Key} {pair.Value:N0}")));
        if (kinds.Length > 0)
            text.Append(" (").Append(kinds).Append(')');
        text.Append(CultureInfo.InvariantCulture, $", {InFlight:N0} in flight");
        if (Resumed > 0)
            text.Append(CultureInfo.InvariantCulture, $", {Resumed:N0} done by an earlier run");
        text.Append(CultureInfo.InvariantCulture, $", {ItemsPerSecond:N0} items/s");
        foreach (var (stage, counts) in Stages)
            text.Append(CultureInfo.InvariantCulture, $" | {stage}: {counts.Succeeded:N0} ok, {counts.Failed:N0} failed attempts");
        return text.ToString();
    }
}

/// <summary>One stage's attempts so far: successes and failures (a retried item counts each attempt).</summary>
/// <param name="Succeeded">Attempts that came back a success.</param>
/// <param name="Failed">Attempts that came back a failure, whatever the policy then did.</param>
public sealed record StageProgress(long Succeeded, long Failed);
