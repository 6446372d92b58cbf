using LanguageExt;

namespace Nursery.Engines;

/// <summary>A stage's items run by a <see cref="WorkerPool{TIn,TOut}"/>: a batch goes to one child as a unit, sized from the batches the pool has run.</summary>
internal sealed class PoolRunner<TIn, TOut>(WorkerPool<TIn, TOut> pool) : IItemRunner<TIn, TOut>
{
    /// <summary>The pool itself.</summary>
    public WorkerPool<TIn, TOut> Pool => pool;

    public IReadOnlyCollection<int> ProcessIds => pool.ProcessIds;

    public int Spawns => pool.Spawns;

    public Option<ChildFailure> Failure => pool.Failure;

    public int NextBatchSize(int max) => pool.NextBatchSize(max);

    public Task StartAsync(CancellationToken cancellationToken) => pool.StartAsync(cancellationToken);

    public Task<(Either<ChildFailure, TOut> Result, int ProcessId)> InvokeWithProcessIdAsync(TIn input, string key, int attempt, long memoryLimit, CancellationToken cancellationToken) =>
        pool.InvokeWithProcessIdAsync(input, key, attempt, memoryLimit, cancellationToken);

    public Task<(Either<ChildFailure, TOut> Result, int ProcessId)[]> InvokeBatchAsync(IReadOnlyList<TIn> inputs, IReadOnlyList<string> keys, CancellationToken cancellationToken) =>
        pool.InvokeBatchAsync(inputs, keys, cancellationToken);

    public ValueTask DisposeAsync() => pool.DisposeAsync();
}
