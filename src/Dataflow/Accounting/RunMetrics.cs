using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Nursery;

/// <summary>
/// What a run reports while it goes: the <c>Nursery</c> meter's counters, each stage's attempts by outcome, and the
/// progress snapshot (the accounts' totals with the stages' counts and the time since the run started).
/// </summary>
internal sealed class RunMetrics
{
    private static readonly Meter Meter = new("Nursery", "1.0");
    private static readonly Counter<long> SucceededCounter = Meter.CreateCounter<long>("nursery.items.succeeded", description: "Items that came through every stage");
    private static readonly Counter<long> FailedCounter = Meter.CreateCounter<long>("nursery.items.failed", description: "Items that ended as a failure, by kind and stage");
    private static readonly Counter<long> AttemptCounter = Meter.CreateCounter<long>("nursery.item.attempts", description: "Attempts of items in child processes");

    private readonly ConcurrentDictionary<string, StageCounts> _byStage = new(StringComparer.Ordinal);
    private readonly long _started = Stopwatch.GetTimestamp();

    /// <summary>The counts last asked for: a sink asks per item with the same name, and hashing it each time showed up.</summary>
    private StageCounts? _lastCounts;

    /// <summary>Time since the run started.</summary>
    public TimeSpan Elapsed => Stopwatch.GetElapsedTime(_started);

    /// <summary>Items that came through, ending in <paramref name="stage"/>.</summary>
    public static void Succeeded(string stage, long count) => SucceededCounter.Add(count, new KeyValuePair<string, object?>("stage", stage));

    /// <summary>An item's final failure.</summary>
    public static void Failed(ChildFailure failure) =>
        FailedCounter.Add(1, new KeyValuePair<string, object?>("kind", ItemOutcome.Failed(failure.Kind).ToString()), new KeyValuePair<string, object?>("stage", failure.Stage));

    /// <summary>Attempts in <paramref name="stage"/> that ended with <paramref name="outcome"/>.</summary>
    public void Attempts(string stage, ItemOutcome outcome, int count)
    {
        AttemptCounter.Add(count, new KeyValuePair<string, object?>("stage", stage), new KeyValuePair<string, object?>("outcome", outcome.ToString()));
        if (outcome.IsSuccess)
            Counts(stage).Add(count, 0);
        else
            Counts(stage).Add(0, count);
    }

    /// <summary>The progress snapshot of <paramref name="totals"/>: their counts, the stages' attempts and the time so far.</summary>
    public PipelineProgress Progress(ItemAccounts.Totals totals) =>
        new(totals.Inputs, totals.Succeeded, totals.Failed, totals.Inputs - totals.Succeeded - totals.Failed, Elapsed)
        {
            Stages = _byStage.ToDictionary(pair => pair.Key, pair => new StageProgress(pair.Value.Succeeded, pair.Value.Failed), StringComparer.Ordinal),
            FailedByKind = totals.ByKind,
            Resumed = totals.Resumed,
        };

    private StageCounts Counts(string stage)
    {
        var last = Volatile.Read(ref _lastCounts);
        if (last is not null && ReferenceEquals(last.Stage, stage))
            return last;
        var counts = _byStage.GetOrAdd(stage, static name => new StageCounts(name));
        Volatile.Write(ref _lastCounts, counts);
        return counts;
    }
}
