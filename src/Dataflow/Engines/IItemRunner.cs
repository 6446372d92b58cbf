using LanguageExt;

namespace Nursery.Engines;

/// <summary>
/// What runs a stage's items in child processes: a <see cref="WorkerPool{TIn,TOut}"/> of persistent children
/// (<see cref="PoolRunner{TIn,TOut}"/>), or a <see cref="PerItemRunner{TIn,TOut}"/> that starts a process per item
/// (<see cref="ProgramRunner{TIn,TOut}"/>). Every call completes exactly once and never throws for a child's failure;
/// after disposal every child is reaped.
/// </summary>
internal interface IItemRunner<TIn, TOut> : IAsyncDisposable
{
    /// <summary>Every process id started so far.</summary>
    IReadOnlyCollection<int> ProcessIds { get; }

    /// <summary>How many processes were started.</summary>
    int Spawns { get; }

    /// <summary>The failure that stopped the runner for good (a pool past its restart intensity); None while it can run items.</summary>
    Option<ChildFailure> Failure { get; }

    /// <summary>How many items the next batch should hold, at most <paramref name="max"/>.</summary>
    int NextBatchSize(int max);

    /// <summary>Starts children ahead of the first item, where the runner keeps any.</summary>
    Task StartAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Runs one item; <paramref name="memoryLimit"/> above the configured one runs it with that limit (retry after an
    /// OOM kill). The result or failure, and the pid of the child that ran it (0 if none did).
    /// </summary>
    Task<(Either<ChildFailure, TOut> Result, int ProcessId)> InvokeWithProcessIdAsync(TIn input, string key, int attempt, long memoryLimit, CancellationToken cancellationToken);

    /// <summary>Runs the first attempt of a batch of items; results in input order, with the pid of the child that ran each (0 if none did).</summary>
    Task<(Either<ChildFailure, TOut> Result, int ProcessId)[]> InvokeBatchAsync(IReadOnlyList<TIn> inputs, IReadOnlyList<string> keys, CancellationToken cancellationToken);
}
