using System.Globalization;
using System.Text;
using LanguageExt;

namespace Nursery;

/// <summary>
/// What became of a run: completed or aborted (and why), the first failure, every failure, counts by case that add up
/// to the number of inputs, and per-attempt records. Immutable.
/// </summary>
public sealed record PipelineResult
{
    /// <summary>True when every input was processed without an abort (items may still have failed under Skip).</summary>
    public required bool Completed { get; init; }

    /// <summary>True when the run was aborted: a fail-fast failure, the deadline, the caller's token, or a failed block.</summary>
    public bool Aborted => !Completed;

    /// <summary>Why the run was aborted; empty when it completed.</summary>
    public required string AbortReason { get; init; }

    /// <summary>What aborted the run (<see cref="Nursery.AbortCause.None"/> when it completed).</summary>
    public AbortCause AbortCause { get; init; }

    /// <summary>The failure that aborted the run, or under Skip the first failure recorded.</summary>
    public required Option<ChildFailure> FirstFailure { get; init; }

    /// <summary>Every item's final failure (up to <see cref="NurseryOptions.MaxRecords"/>), in the order they happened.</summary>
    public required IReadOnlyList<ChildFailure> Failures { get; init; }

    /// <summary>Items read from the source (resumed items not included).</summary>
    public required long Inputs { get; init; }

    /// <summary>Items that came through every stage.</summary>
    public required long Succeeded { get; init; }

    /// <summary>Items skipped because the job log already recorded them as succeeded (resume).</summary>
    public required long Resumed { get; init; }

    /// <summary>Failed items by <see cref="FailureKind"/>, in the order of its members; every kind is present, zeros included.</summary>
    public required IReadOnlyDictionary<FailureKind, long> CountsByKind { get; init; }

    /// <summary>Per-attempt records (stage, key, attempt, pid, start, end, outcome), failures kept first when capped.</summary>
    public required IReadOnlyList<ItemRecord> Records { get; init; }

    /// <summary>How long the run took.</summary>
    public required TimeSpan Elapsed { get; init; }

    /// <summary>Items that ended as a failure of any case.</summary>
    public long Failed => CountsByKind.Values.Sum();

    /// <summary>Whether <see cref="Succeeded"/> plus the failures equals <see cref="Inputs"/>: every input accounted for exactly once.</summary>
    public bool IsBalanced => Succeeded + Failed == Inputs;

    /// <summary>A summary table and, on abort, the first failure's full report.</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append(Completed ? "completed" : $"ABORTED: {AbortReason}")
            .Append(CultureInfo.InvariantCulture, $" in {Units.Duration(Elapsed)}: {Inputs} inputs, {Succeeded} succeeded, {Failed} failed")
            .Append(Resumed > 0 ? $", {Resumed} resumed" : "")
            .AppendLine();
        foreach (var (kind, count) in CountsByKind.Where(pair => pair.Value > 0))
            text.Append(CultureInfo.InvariantCulture, $"  {kind,-18} {count}").AppendLine();
        FirstFailure.IfSome(failure => text.AppendLine("first failure:").AppendLine(failure.ToString()));
        return text.ToString().TrimEnd();
    }
}
