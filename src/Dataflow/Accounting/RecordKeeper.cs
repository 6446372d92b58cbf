namespace Nursery;

/// <summary>
/// The run's records: the attempts kept for the result (up to <c>maxRecords</c>; once full, a failure takes the place
/// of a success, so failures are kept first) and the lines written to the job log, when there is one.
/// </summary>
internal sealed class RecordKeeper(int maxRecords, JobLog? jobLog)
{
    private readonly Lock _gate = new();
    private readonly List<ItemRecord> _records = [];
    private int _recordCount;

    /// <summary>The run's job log; null when there is none.</summary>
    public JobLog? JobLog => jobLog;

    /// <summary>Whether a successful attempt would still be kept or logged; when not, callers may skip making its record.</summary>
    public bool KeepsSuccesses => jobLog is not null || Volatile.Read(ref _recordCount) < maxRecords;

    /// <summary>An attempt: logged, and kept while there is room (a failure replaces a kept success when there is not).</summary>
    public void Attempt(ItemRecord record)
    {
        jobLog?.Attempt(record);
        lock (_gate)
        {
            if (_records.Count < maxRecords)
            {
                _records.Add(record);
                Volatile.Write(ref _recordCount, _records.Count);
            }
            else if (!record.Outcome.IsSuccess)
            {
                var replace = _records.FindIndex(static existing => existing.Outcome.IsSuccess);
                if (replace >= 0)
                    _records[replace] = record;
            }
        }
    }

    /// <summary>An item's end line in the job log, written at once when <paramref name="writeNow"/>.</summary>
    public void Ended(string key, ItemOutcome outcome, string detail, bool writeNow)
    {
        if (jobLog is null)
            return;
        jobLog.Ended(key, outcome, detail);
        if (writeNow)
            jobLog.Flush();
    }

    /// <summary>The end lines of items that came through, written before they leave the scope.</summary>
    public void Succeeded(IReadOnlyList<string> keys)
    {
        if (jobLog is null)
            return;
        foreach (var key in keys)
            jobLog.Ended(key, ItemOutcome.Succeeded, "");
        jobLog.Flush();
    }

    /// <summary>The records kept so far, in the order they were kept.</summary>
    public ItemRecord[] Records()
    {
        lock (_gate)
            return [.. _records];
    }
}
