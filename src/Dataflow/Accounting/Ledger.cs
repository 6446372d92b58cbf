using LanguageExt;

namespace Nursery;

/// <summary>
/// The run's books, as the blocks use them: one call per way an item or an attempt ends, kept in three parts — the
/// accounting invariant (<see cref="ItemAccounts"/>: every input counted once when read and once when it ends), the
/// records (<see cref="RecordKeeper"/>: the attempts kept for the result, and the job log) and the metrics
/// (<see cref="RunMetrics"/>: the meter's counters, the stages' attempts, the progress snapshot). An end is written to
/// the job log before it is counted, so the run has not drained before every end line is written.
/// </summary>
internal sealed class Ledger(NurseryOptions options, JobLog? jobLog)
{
    private readonly ItemAccounts _accounts = new(options.MaxRecords);
    private readonly RecordKeeper _records = new(options.MaxRecords, jobLog);
    private readonly RunMetrics _metrics = new(options.MeterFactory);

    /// <summary>Completes when the source is exhausted and every input has ended.</summary>
    public Task Drained => _accounts.Drained;

    public long Inputs => _accounts.Inputs;

    /// <summary>Items read and not yet ended.</summary>
    public long InFlight => _accounts.InFlight;

    public Option<ChildFailure> FirstFailure => _accounts.FirstFailure;

    /// <summary>The run's job log, for a sink's "(deliver)" lines and its writes; null when there is none.</summary>
    public JobLog? JobLog => _records.JobLog;

    /// <summary>Whether a successful attempt would still be kept or logged; when not, callers may skip timing it.</summary>
    public bool KeepsSuccesses => _records.KeepsSuccesses;

    public void Input(int count) => _accounts.Input(count);

    public void Resumed() => _accounts.Resume();

    public void SourceDone() => _accounts.SourceDone();

    /// <summary>
    /// An item that came through: counted once and its end line logged, written at once unless
    /// <paramref name="writeNow"/> is false (a sink writes its lines itself, an array at a time).
    /// </summary>
    public void Succeeded(string stage, string key, bool writeNow = true)
    {
        if (_accounts.IsClosed)
            return;
        _metrics.Succeeded(stage, 1);
        _records.Ended(key, ItemOutcome.Succeeded, "", writeNow);
        _accounts.Succeed(1);
    }

    /// <summary>An item's final failure: counted once, kept, logged.</summary>
    public void Failed(ChildFailure failure)
    {
        if (_accounts.IsClosed)
            return;
        _metrics.Failed(failure);
        _records.Ended(failure.Key, ItemOutcome.Failed(failure.Kind), failure.Summary, writeNow: false);
        _accounts.Fail(failure);
    }

    /// <summary>
    /// Items read but never ended (left in a block that could not drain after an abort): counted Cancelled. Every item
    /// still in flight is one of these, so whatever ends later (a block completed by force goes on with what it held)
    /// is not counted again.
    /// </summary>
    public void Abandon(string reason, Option<ChildFailure> cause)
    {
        var left = _accounts.Close();
        for (var i = 0L; i < left; i++)
        {
            var failure = new ChildFailure.Cancelled(reason, cause, true) { Stage = "(run)", Key = "(unknown)" };
            _metrics.Failed(failure);
            _records.Ended(failure.Key, ItemOutcome.Failed(failure.Kind), failure.Summary, writeNow: false);
            _accounts.EndLeft(failure);
        }
    }

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
                Attempt(new ItemRecord(stage, keys[i], 1, processIds[i], start, end, ItemOutcome.Succeeded, ""));
            return;
        }
        Succeeded(stage, keys.Count);
    }

    /// <summary>Successful first attempts of a batch, counted at once, while successes are neither kept nor logged.</summary>
    public void Succeeded(string stage, int count)
    {
        if (count == 0)
            return;
        _metrics.Attempts(stage, ItemOutcome.Succeeded, count);
    }

    /// <summary>
    /// Items whose sink action completed at once, while successes are neither kept nor logged: their attempts and
    /// their ends counted in one go.
    /// </summary>
    public void SinkSucceeded(string stage, int count)
    {
        if (_accounts.IsClosed)
            return;
        _metrics.Attempts(stage, ItemOutcome.Succeeded, count);
        _metrics.Succeeded(stage, count);
        _accounts.Succeed(count);
    }

    /// <summary>Items that came through the last stage: counted once each, their end lines written before they leave the scope.</summary>
    public void Ended(string stage, IReadOnlyList<string> keys)
    {
        if (keys.Count == 0 || _accounts.IsClosed)
            return;
        _metrics.Succeeded(stage, keys.Count);
        _records.Succeeded(keys);
        _accounts.Succeed(keys.Count);
    }

    /// <summary>An attempt, as its parts: the record is made only when it is kept or logged.</summary>
    public void Attempt(string stage, string key, int attempt, int processId, DateTimeOffset start, DateTimeOffset end, ItemOutcome outcome, string detail)
    {
        if (outcome.IsSuccess && !KeepsSuccesses)
        {
            _metrics.Attempts(stage, outcome, 1);
            return;
        }
        Attempt(new ItemRecord(stage, key, attempt, processId, start, end, outcome, detail));
    }

    public void Attempt(ItemRecord record)
    {
        _metrics.Attempts(record.Stage, record.Outcome, 1);
        _records.Attempt(record);
    }

    /// <summary>One consistent snapshot of the counts so far (see <see cref="ItemAccounts.Snapshot"/>).</summary>
    public PipelineProgress Progress() => _metrics.Progress(_accounts.Snapshot());

    public PipelineResult Result(bool completed, string abortReason, AbortCause abortCause)
    {
        var totals = _accounts.Snapshot(withFailures: true);
        return new PipelineResult
        {
            Completed = completed,
            AbortReason = abortReason,
            AbortCause = abortCause,
            FirstFailure = totals.First is null ? Option<ChildFailure>.None : totals.First,
            Failures = totals.Failures,
            Inputs = totals.Inputs,
            Succeeded = totals.Succeeded,
            Resumed = totals.Resumed,
            CountsByKind = totals.ByKind,
            Records = _records.Records(),
            Elapsed = _metrics.Elapsed,
        };
    }
}
