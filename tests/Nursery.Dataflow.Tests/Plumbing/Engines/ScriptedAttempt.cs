using LanguageExt;
using Nursery.Engines;

namespace Nursery.Dataflow.Tests.Plumbing.Engines;

/// <summary>What a <see cref="ScriptedAttempt"/> gives and what it saw (shared: the loop works on its own copy of the attempt).</summary>
internal sealed class AttemptScript(params Either<ChildFailure, int>[] results)
{
    /// <summary>Attempt n gives results[n - 1] (the last one again after the end of the list).</summary>
    public Either<ChildFailure, int> ResultOf(int attempt) => results[Math.Min(attempt, results.Length) - 1];

    /// <summary>The attempts started, with the memory limit each was given.</summary>
    public List<(int Attempt, long MemoryLimit)> Started { get; } = [];

    /// <summary>What each attempt's task is (complete at once when absent).</summary>
    public Dictionary<int, Task> Running { get; } = [];

    public int Succeeded { get; set; }

    public bool RunnerFailed { get; init; }

    /// <summary>Reading the attempt throws (a defect).</summary>
    public bool Defective { get; init; }
}

/// <summary>An attempt that runs no process: it gives what its script says.</summary>
internal readonly struct ScriptedAttempt(AttemptScript script) : IAttempt<int>
{
    public bool RunnerFailed => script.RunnerFailed;

    public Task Start(int attempt, long memoryLimit)
    {
        script.Started.Add((attempt, memoryLimit));
        return script.Running.GetValueOrDefault(attempt, Task.CompletedTask);
    }

    public Attempted<int> End(Task running, int attempt)
    {
        Assert.True(running.IsCompleted, "the loop reads an attempt only once it has ended");
        if (script.Defective)
            throw new InvalidOperationException("a defect in reading the attempt");
        return new Attempted<int>(script.ResultOf(attempt), 100 + attempt, default, default);
    }

    public void Succeeded() => script.Succeeded++;
}
