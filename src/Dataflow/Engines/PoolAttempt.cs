using LanguageExt;

namespace Nursery.Engines;

/// <summary>
/// An attempt of a stage's item after its first failed in a batch: the first is that batch's (already ended), each
/// further one runs the item alone in the stage's runner.
/// </summary>
internal struct PoolAttempt<TIn, TOut>(BatchRunner<TIn, TOut> runner, string key, TIn input, Attempted<TOut> first) : IAttempt<TOut>
{
    private DateTimeOffset _start;

    public readonly bool RunnerFailed => runner.Pool.Failure.IsSome;

    public Task Start(int attempt, long memoryLimit)
    {
        if (attempt == 1)
            return Task.CompletedTask;
        _start = DateTimeOffset.UtcNow;
        return runner.Pool.InvokeWithProcessIdAsync(input, key, attempt, memoryLimit, runner.Scope.Token);
    }

    public readonly Attempted<TOut> End(Task running, int attempt)
    {
        if (attempt == 1)
            return first;
        var (result, processId) = ((Task<(Either<ChildFailure, TOut> Result, int ProcessId)>)running).GetAwaiter().GetResult();
        return new Attempted<TOut>(result, processId, _start, DateTimeOffset.UtcNow);
    }

    public readonly void Succeeded() => runner.Succeeded(key);
}
