using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;

namespace Nursery;

/// <summary>
/// What a run reports while it goes: the <c>Nursery</c> meter's counters, each stage's attempts by outcome, and the
/// progress snapshot (the accounts' totals with the stages' counts and the time since the run started).
/// </summary>
internal sealed class RunMetrics(IMeterFactory? meterFactory)
{
    private static readonly Meter StaticMeter = new(NurseryTelemetry.MeterName, "1.0");
    private static readonly Counters StaticCounters = new(StaticMeter);
    private static readonly ConditionalWeakTable<IMeterFactory, Counters> ByFactory = [];

    // The same meter as the workers' (Nursery.Core makes its instruments on a meter of the same name, or asks the same
    // factory, which gives one meter per name and version).
    private readonly Counters _counters = meterFactory is null ? StaticCounters : ByFactory.GetValue(meterFactory, static factory => new Counters(factory.Create(new MeterOptions(NurseryTelemetry.MeterName) { Version = "1.0" })));

    private readonly ConcurrentDictionary<string, StageCounts> _byStage = new(StringComparer.Ordinal);
    private readonly long _started = Stopwatch.GetTimestamp();

    /// <summary>The counts last asked for: a sink asks per item with the same name, and hashing it each time showed up.</summary>
    private StageCounts? _lastCounts;

    /// <summary>Time since the run started.</summary>
    public TimeSpan Elapsed => Stopwatch.GetElapsedTime(_started);

    /// <summary>Items that came through, ending in <paramref name="stage"/>.</summary>
    public void Succeeded(string stage, long count) => _counters.Succeeded.Add(count, new KeyValuePair<string, object?>("stage", stage));

    /// <summary>An item's final failure.</summary>
    public void Failed(ChildFailure failure) =>
        _counters.Failed.Add(1, new KeyValuePair<string, object?>("kind", ItemOutcome.Failed(failure.Kind).ToString()), new KeyValuePair<string, object?>("stage", failure.Stage));

    /// <summary>Attempts in <paramref name="stage"/> that ended with <paramref name="outcome"/>.</summary>
    public void Attempts(string stage, ItemOutcome outcome, int count)
    {
        _counters.Attempts.Add(count, new KeyValuePair<string, object?>("stage", stage), new KeyValuePair<string, object?>("outcome", outcome.ToString()));
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

    private sealed class Counters(Meter meter)
    {
        public Counter<long> Succeeded { get; } = meter.CreateCounter<long>("nursery.items.succeeded", description: "Items that came through every stage");

        public Counter<long> Failed { get; } = meter.CreateCounter<long>("nursery.items.failed", description: "Items that ended as a failure, by kind and stage");

        public Counter<long> Attempts { get; } = meter.CreateCounter<long>("nursery.item.attempts", description: "Attempts of items in child processes");
    }
}
