using System.Diagnostics;
using System.Diagnostics.Metrics;
using LanguageExt;

namespace Nursery;

/// <summary>
/// The run's books: every input is counted once when read and once when it ends (a success or a failure), so the
/// run knows when nothing is left in flight. Also keeps the first failure, the failures, the records and the job log.
/// An end is one interlocked add to one counter (successes, or failures under the lock with their kinds); what has
/// ended is always derived from the two, so no reader sees an end counted in one total and not yet in another.
/// </summary>
internal sealed class Ledger(NurseryOptions options, JobLog? jobLog)
{
    private static readonly Meter Meter = new("Nursery", "1.0");
    private static readonly Counter<long> SucceededCounter = Meter.CreateCounter<long>("nursery.items.succeeded", description: "Items that came through every stage");
    private static readonly Counter<long> FailedCounter = Meter.CreateCounter<long>("nursery.items.failed", description: "Items that ended as a failure, by kind and stage");
    private static readonly Counter<long> AttemptCounter = Meter.CreateCounter<long>("nursery.item.attempts", description: "Attempts of items in child processes");

    internal static readonly string[] Kinds = ["Faulted", "StartFailed", "Crashed", "OutOfMemory", "TimedOut", "ProtocolViolation", "Cancelled"];

    private readonly Lock _gate = new();
    private readonly Dictionary<string, long> _byKind = Kinds.ToDictionary(kind => kind, _ => 0L);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, StageCounts> _byStage = new(StringComparer.Ordinal);
    private readonly List<ChildFailure> _failures = [];
    private readonly List<ItemRecord> _records = [];
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly long _started = Stopwatch.GetTimestamp();
    private long _inputs;
    private long _succeeded;
    private long _failed;
    private long _resumed;
    private int _recordCount;
    private bool _sourceDone;
    private bool _abandoned;
    private ChildFailure? _firstFailure;

    /// <summary>Completes when the source is exhausted and every input has ended.</summary>
    public Task Drained => _drained.Task;

    public long Inputs => Interlocked.Read(ref _inputs);

    /// <summary>Items read and not yet ended; the ends are read before the inputs, so it is never negative.</summary>
    public long InFlight
    {
        get
        {
            var ended = EndedCount;
            return Interlocked.Read(ref _inputs) - ended;
        }
    }

    /// <summary>Items that have ended, successes read before failures (an item is counted in only one of them).</summary>
    private long EndedCount => Interlocked.Read(ref _succeeded) + Interlocked.Read(ref _failed);

    public Option<ChildFailure> FirstFailure
    {
        get
        {
            lock (_gate)
                return _firstFailure is null ? Option<ChildFailure>.None : _firstFailure;
        }
    }

    public void Input(int count) => Interlocked.Add(ref _inputs, count);

    public void Resumed() => Interlocked.Increment(ref _resumed);

    public void SourceDone()
    {
        Volatile.Write(ref _sourceDone, true);
        CheckDrained();
    }

    /// <summary>
    /// An item that came through: counted once and its end line logged, written at once unless
    /// <paramref name="writeNow"/> is false (a sink writes its lines itself, an array at a time).
    /// </summary>
    public void Succeeded(string stage, string key, bool writeNow = true)
    {
        if (Volatile.Read(ref _abandoned))
            return;
        Interlocked.Increment(ref _succeeded);
        SucceededCounter.Add(1, new KeyValuePair<string, object?>("stage", stage));
        if (jobLog is not null)
        {
            jobLog.Ended(key, "Succeeded", "");
            if (writeNow)
                jobLog.Flush();
        }
        CheckDrained();
    }

    /// <summary>The run's job log, for a sink's "(deliver)" lines and its writes; null when there is none.</summary>
    public JobLog? JobLog => jobLog;

    /// <summary>An item's final failure: counted once, kept, logged.</summary>
    public void Failed(ChildFailure failure)
    {
        if (Volatile.Read(ref _abandoned))
            return;
        Count(failure);
    }

    private void Count(ChildFailure failure)
    {
        lock (_gate)
        {
            _byKind[failure.Kind]++;
            // Under the lock with its kind, so a snapshot's failures add up to its total.
            Interlocked.Increment(ref _failed);
            _firstFailure ??= failure is ChildFailure.Cancelled ? null : failure;
            if (_failures.Count < options.MaxRecords)
                _failures.Add(failure);
        }
        FailedCounter.Add(1, new KeyValuePair<string, object?>("kind", failure.Kind), new KeyValuePair<string, object?>("stage", failure.Stage));
        jobLog?.Ended(failure.Key, failure.Kind, failure.Summary);
        CheckDrained();
    }

    /// <summary>
    /// Items read but never ended (left in a block that could not drain after an abort): counted Cancelled. Every item
    /// still in flight is one of these, so whatever ends later (a block completed by force goes on with what it held)
    /// is not counted again.
    /// </summary>
    public void Abandon(string reason, Option<ChildFailure> cause)
    {
        long left;
        lock (_gate)
        {
            if (_abandoned)
                return;
            left = InFlight;
            Volatile.Write(ref _abandoned, true);
        }
        for (var i = 0; i < left; i++)
            Count(new ChildFailure.Cancelled(reason, cause, true) { Stage = "(run)", Key = "(unknown)" });
    }

    /// <summary>Whether a successful attempt would still be kept or logged; when not, callers may skip timing it.</summary>
    public bool KeepsSuccesses => jobLog is not null || Volatile.Read(ref _recordCount) < options.MaxRecords;

    /// <summary>
    /// Successful first attempts of a batch that ran in one child: counted at once; records made only while
    /// they are kept or logged.
    /// </summary>
    public void Succeeded(string stage, IReadOnlyList<string> keys, IReadOnlyList<int> processIds, DateTimeOffset start, DateTimeOffset end)
    {
        if (keys.Count == 0)
            return;
        if (KeepsSuccesses)
        {
            for (var i = 0; i < keys.Count; i++)
                Attempt(new ItemRecord(stage, keys[i], 1, processIds[i], start, end, "Succeeded", ""));
            return;
        }
        Succeeded(stage, keys.Count);
    }

    /// <summary>Successful first attempts of a batch, counted at once, while successes are neither kept nor logged.</summary>
    public void Succeeded(string stage, int count)
    {
        if (count == 0)
            return;
        AttemptCounter.Add(count, new KeyValuePair<string, object?>("stage", stage), new KeyValuePair<string, object?>("outcome", "Succeeded"));
        Counts(stage).Add(count, 0);
    }

    /// <summary>
    /// Items whose sink action completed at once, while successes are neither kept nor logged: their attempts and
    /// their ends counted in one go.
    /// </summary>
    public void SinkSucceeded(string stage, int count)
    {
        if (Volatile.Read(ref _abandoned))
            return;
        AttemptCounter.Add(count, new KeyValuePair<string, object?>("stage", stage), new KeyValuePair<string, object?>("outcome", "Succeeded"));
        Counts(stage).Add(count, 0);
        Interlocked.Add(ref _succeeded, count);
        SucceededCounter.Add(count, new KeyValuePair<string, object?>("stage", stage));
        CheckDrained();
    }

    /// <summary>Items that came through the last stage: counted once each.</summary>
    public void Ended(string stage, IReadOnlyList<string> keys)
    {
        if (keys.Count == 0 || Volatile.Read(ref _abandoned))
            return;
        Interlocked.Add(ref _succeeded, keys.Count);
        SucceededCounter.Add(keys.Count, new KeyValuePair<string, object?>("stage", stage));
        if (jobLog is not null)
        {
            foreach (var key in keys)
                jobLog.Ended(key, "Succeeded", "");
            jobLog.Flush(); // written before the items leave the scope
        }
        CheckDrained();
    }

    /// <summary>An attempt, as its parts: the record is made only when it is kept or logged.</summary>
    public void Attempt(string stage, string key, int attempt, int processId, DateTimeOffset start, DateTimeOffset end, string outcome, string detail)
    {
        if (outcome == "Succeeded" && jobLog is null && Volatile.Read(ref _recordCount) >= options.MaxRecords)
        {
            AttemptCounter.Add(1, new KeyValuePair<string, object?>("stage", stage), new KeyValuePair<string, object?>("outcome", outcome));
            Counts(stage).Add(1, 0);
            return;
        }
        Attempt(new ItemRecord(stage, key, attempt, processId, start, end, outcome, detail));
    }

    public void Attempt(ItemRecord record)
    {
        AttemptCounter.Add(1, new KeyValuePair<string, object?>("stage", record.Stage), new KeyValuePair<string, object?>("outcome", record.Outcome));
        jobLog?.Attempt(record);
        lock (_gate)
        {
            Counts(record.Stage).Add(record.Outcome == "Succeeded" ? 1 : 0, record.Outcome == "Succeeded" ? 0 : 1);
            if (_records.Count < options.MaxRecords)
            {
                _records.Add(record);
                Volatile.Write(ref _recordCount, _records.Count);
            }
            else if (record.Outcome != "Succeeded")
            {
                var replace = _records.FindIndex(existing => existing.Outcome == "Succeeded");
                if (replace >= 0)
                    _records[replace] = record;
            }
        }
    }

    /// <summary>
    /// One consistent snapshot: the failures and their kinds read together under the lock, the successes, and the
    /// inputs last (every item that has ended was counted in before it ended), so no count is negative and in flight
    /// is what was read and has not ended.
    /// </summary>
    public PipelineProgress Progress()
    {
        lock (_gate)
        {
            var failed = Interlocked.Read(ref _failed);
            var succeeded = Interlocked.Read(ref _succeeded);
            var inputs = Interlocked.Read(ref _inputs);
            return new PipelineProgress(inputs, succeeded, failed, inputs - succeeded - failed, Stopwatch.GetElapsedTime(_started))
            {
                Stages = _byStage.ToDictionary(pair => pair.Key, pair => new StageProgress(pair.Value.Succeeded, pair.Value.Failed), StringComparer.Ordinal),
                FailedByKind = new Dictionary<string, long>(_byKind),
            };
        }
    }

    public PipelineResult Result(bool completed, string abortReason, AbortCause abortCause)
    {
        lock (_gate)
        {
            var first = _firstFailure ?? _failures.FirstOrDefault();
            return new PipelineResult
            {
                Completed = completed,
                AbortReason = abortReason,
                AbortCause = abortCause,
                FirstFailure = first is null ? Option<ChildFailure>.None : first,
                Failures = [.. _failures],
                Inputs = Inputs,
                Succeeded = Interlocked.Read(ref _succeeded),
                Resumed = Interlocked.Read(ref _resumed),
                CountsByKind = new Dictionary<string, long>(_byKind),
                Records = [.. _records],
                Elapsed = Stopwatch.GetElapsedTime(_started),
            };
        }
    }

    private void CheckDrained()
    {
        if (!Volatile.Read(ref _sourceDone))
            return;
        bool done;
        lock (_gate)
            done = _sourceDone && EndedCount >= Interlocked.Read(ref _inputs);
        if (done)
            _drained.TrySetResult();
    }

    /// <summary>The counts last asked for: a sink asks per item with the same name, and hashing it each time showed up.</summary>
    private StageCounts? _lastCounts;

    private StageCounts Counts(string stage)
    {
        var last = Volatile.Read(ref _lastCounts);
        if (last is not null && ReferenceEquals(last.Stage, stage))
            return last;
        var counts = _byStage.GetOrAdd(stage, static name => new StageCounts(name));
        Volatile.Write(ref _lastCounts, counts);
        return counts;
    }

    /// <summary>A stage's attempts by outcome; counted without the ledger's lock (one per item was measurable).</summary>
    private sealed class StageCounts(string stage)
    {
        public string Stage { get; } = stage;

        private long _succeeded;
        private long _failed;

        public long Succeeded => Interlocked.Read(ref _succeeded);

        public long Failed => Interlocked.Read(ref _failed);

        public void Add(long succeeded, long failed)
        {
            if (succeeded != 0)
                Interlocked.Add(ref _succeeded, succeeded);
            if (failed != 0)
                Interlocked.Add(ref _failed, failed);
        }
    }
}
