namespace Nursery.Engines;

/// <summary>What the <see cref="AttemptLoop"/> asks of the run (its abort state and the wait between attempts) and records in its books.</summary>
internal interface IAttemptBooks
{
    /// <summary>Whether the run is aborting.</summary>
    bool IsAborted { get; }

    /// <summary>The Cancelled failure of an item stopped by the abort, naming its cause.</summary>
    ChildFailure AbortedFailure(string stage, string key, int attempt, bool itemStarted);

    /// <summary>Waits before a retry; false if the run aborted meanwhile.</summary>
    Task<bool> DelayAsync(TimeSpan wait);

    /// <summary>An attempt's record.</summary>
    void Attempt(string stage, string key, int attempt, int processId, DateTimeOffset start, DateTimeOffset end, ItemOutcome outcome, string detail);

    /// <summary>An item's final failure.</summary>
    void Failed(ChildFailure failure);

    /// <summary>A fail-fast failure: aborts the run.</summary>
    void Abort(ChildFailure failure);

    /// <summary>A stage that can no longer start children: aborts the run whatever the policy.</summary>
    void AbortForFailedStage(ChildFailure failure);
}
