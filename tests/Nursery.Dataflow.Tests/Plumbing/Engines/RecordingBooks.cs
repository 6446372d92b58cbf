using LanguageExt;
using Nursery.Engines;

namespace Nursery.Dataflow.Tests.Plumbing.Engines;

/// <summary>Books for the attempt loop that record every call; the wait before a retry is recorded, not waited.</summary>
internal sealed class RecordingBooks : IAttemptBooks
{
    public bool IsAborted { get; set; }

    /// <summary>The run aborts during the next wait before a retry (the wait then says false).</summary>
    public bool AbortsDuringDelay { get; init; }

    public List<TimeSpan> Delays { get; } = [];

    public List<ItemRecord> Attempts { get; } = [];

    public List<ChildFailure> Failures { get; } = [];

    public List<ChildFailure> Aborts { get; } = [];

    public List<ChildFailure> StageAborts { get; } = [];

    public ChildFailure AbortedFailure(string stage, string key, int attempt, bool itemStarted) =>
        new ChildFailure.Cancelled("the run was aborted", Option<ChildFailure>.None, itemStarted) { Stage = stage, Key = key, Attempt = attempt };

    public Task<bool> DelayAsync(TimeSpan wait)
    {
        Delays.Add(wait);
        if (AbortsDuringDelay)
            IsAborted = true;
        return Task.FromResult(!IsAborted);
    }

    public void Attempt(string stage, string key, int attempt, int processId, DateTimeOffset start, DateTimeOffset end, ItemOutcome outcome, string detail) =>
        Attempts.Add(new ItemRecord(stage, key, attempt, processId, start, end, outcome, detail));

    public void Failed(ChildFailure failure) => Failures.Add(failure);

    public void Abort(ChildFailure failure) => Aborts.Add(failure);

    public void AbortForFailedStage(ChildFailure failure) => StageAborts.Add(failure);
}
