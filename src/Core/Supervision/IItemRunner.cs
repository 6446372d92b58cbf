using LanguageExt;

namespace Nursery;

/// <summary>
/// Runs items in child processes for a stage: a <see cref="WorkerPool{TIn,TOut}"/> of persistent children, or a
/// per-item command that starts a process for each item. Every call completes exactly once; after disposal every
/// child is reaped.
/// </summary>
public interface IItemRunner<TIn, TOut> : IAsyncDisposable
{
    /// <summary>Every process id started so far.</summary>
    IReadOnlyCollection<int> ProcessIds { get; }

    /// <summary>How many processes were started.</summary>
    int Spawns { get; }

    /// <summary>The failure that stopped the runner for good (a pool past its restart intensity); None while it can run items.</summary>
    Option<ChildFailure> Failure => Option<ChildFailure>.None;

    /// <summary>Starts children ahead of the first item, where the runner keeps any.</summary>
    Task StartAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Runs one item; <paramref name="memoryLimit"/> above the configured one runs it with that limit (retry after an OOM kill).
    /// Returns the result or failure and the pid of the child that ran it (0 if none did). Never throws for a child's failure.
    /// </summary>
    Task<(Either<ChildFailure, TOut> Result, int ProcessId)> InvokeWithProcessIdAsync(TIn input, string key, int attempt, long memoryLimit, CancellationToken cancellationToken);

    /// <summary>
    /// Runs the first attempt of a batch of items; results in input order, with the pid of the child that ran each
    /// (0 if none did). A <see cref="WorkerPool{TIn,TOut}"/> sends the batch to one child as a unit; the default runs
    /// each item on its own, all at once. Never throws for a child's failure.
    /// </summary>
    async Task<(Either<ChildFailure, TOut> Result, int ProcessId)[]> InvokeBatchAsync(IReadOnlyList<TIn> inputs, IReadOnlyList<string> keys, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(keys);
        return await Task.WhenAll(inputs.Select((input, index) => InvokeWithProcessIdAsync(input, keys[index], 1, 0, cancellationToken))).ConfigureAwait(false);
    }
}
