namespace Nursery.Engines;

/// <summary>The <see cref="IAttemptBooks"/> of a run: its scope's abort state and its ledger.</summary>
internal sealed class ScopeBooks(NurseryScope scope) : IAttemptBooks
{
    public bool IsAborted => scope.IsAborted;

    public ChildFailure AbortedFailure(string stage, string key, int attempt, bool itemStarted) => scope.AbortedFailure(stage, key, attempt, itemStarted);

    public Task<bool> DelayAsync(TimeSpan wait) => scope.DelayAsync(wait);

    public void Attempt(string stage, string key, int attempt, int processId, DateTimeOffset start, DateTimeOffset end, ItemOutcome outcome, string detail) =>
        scope.Ledger.Attempt(stage, key, attempt, processId, start, end, outcome, detail);

    public void Failed(ChildFailure failure) => scope.Ledger.Failed(failure);

    public void Abort(ChildFailure failure) => scope.Abort(failure);

    public void AbortForFailedStage(ChildFailure failure) => scope.AbortForFailedStage(failure);
}
