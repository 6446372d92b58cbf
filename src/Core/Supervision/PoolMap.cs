using System.Globalization;
using System.Runtime.CompilerServices;
using LanguageExt;

namespace Nursery.Supervision;

/// <summary><see cref="WorkerPool{TIn,TOut}.MapAsync(IEnumerable{TIn}, CancellationToken)"/>, over the pool's public face (<see cref="WorkerPool{TIn,TOut}.InvokeBatchAsync"/>).</summary>
internal static class PoolMap
{
    /// <summary>
    /// Reads <paramref name="inputs"/> lazily into batches sized by the pool's batch sizer, at most two batches per
    /// child in flight (<see cref="PoolOptions.ItemsPerWorker"/> items), and yields the results in input order. An item's key is its index. Leaving the loop early
    /// cancels the batches still in flight and waits for them.
    /// </summary>
    public static async IAsyncEnumerable<Either<ChildFailure, TOut>> MapAsync<TIn, TOut>(WorkerPool<TIn, TOut> pool, IEnumerable<TIn> inputs, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var inFlight = new Queue<Task<(Either<ChildFailure, TOut> Result, int ProcessId)[]>>();
        var (maxBatches, maxBatchItems) = Window(pool.Options);
        var next = 0L;
        using var source = inputs.GetEnumerator();
        var more = true;
        try
        {
            while (true)
            {
                while (more && inFlight.Count < maxBatches)
                {
                    var size = pool.NextBatchSize(maxBatchItems);
                    var batch = new List<TIn>(size);
                    while (batch.Count < size && (more = source.MoveNext()))
                        batch.Add(source.Current);
                    if (batch.Count == 0)
                        break;
                    inFlight.Enqueue(pool.InvokeBatchAsync(batch, new IndexKeys(next, batch.Count), stop.Token));
                    next += batch.Count;
                }
                if (inFlight.Count == 0)
                    yield break;
                var done = await inFlight.Dequeue().ConfigureAwait(false);
                foreach (var (result, _) in done)
                    yield return result;
            }
        }
        finally
        {
            if (inFlight.Count > 0)
            {
                await stop.CancelAsync().ConfigureAwait(false);
                await Task.WhenAll(inFlight).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// As the <see cref="IEnumerable{T}"/> overload, for an asynchronous source read with the enumeration's token:
    /// a batch goes out as soon as the source makes the reader wait with items in hand (a read that completes at once
    /// fills the batch), and results are yielded while the source waits. Leaving the loop early, or the token, cancels
    /// the batches in flight and the source's pending read, and waits for both before the source is disposed.
    /// </summary>
    public static async IAsyncEnumerable<Either<ChildFailure, TOut>> MapAsync<TIn, TOut>(WorkerPool<TIn, TOut> pool, IAsyncEnumerable<TIn> inputs, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var inFlight = new Queue<Task<(Either<ChildFailure, TOut> Result, int ProcessId)[]>>();
        var (maxBatches, maxBatchItems) = Window(pool.Options);
        var next = 0L;
        var source = inputs.GetAsyncEnumerator(stop.Token);
        // A read of the source that did not complete at once; awaited (again) once it has.
        Task<bool>? reading = null;
        var more = true;
        List<TIn>? batch = null;
        try
        {
            while (true)
            {
                while (more && inFlight.Count < maxBatches)
                {
                    var size = pool.NextBatchSize(maxBatchItems);
                    batch ??= new List<TIn>(size);
                    while (batch.Count < size)
                    {
                        bool moved;
                        if (reading is not null)
                        {
                            if (!reading.IsCompleted)
                                break;
                            moved = await reading.ConfigureAwait(false);
                            reading = null;
                        }
                        else
                        {
                            var move = source.MoveNextAsync();
                            if (!move.IsCompleted)
                            {
                                reading = move.AsTask();
                                break;
                            }
                            moved = await move.ConfigureAwait(false);
                        }
                        if (!moved)
                        {
                            more = false;
                            break;
                        }
                        batch.Add(source.Current);
                    }
                    if (batch.Count == 0)
                        break;
                    inFlight.Enqueue(pool.InvokeBatchAsync(batch, new IndexKeys(next, batch.Count), stop.Token));
                    next += batch.Count;
                    batch = null;
                    if (reading is not null)
                        break;
                }
                if (inFlight.Count == 0)
                {
                    if (reading is null)
                        yield break;
                    await Task.WhenAny(reading).ConfigureAwait(false);
                    continue;
                }
                var head = inFlight.Peek();
                if (reading is not null && !head.IsCompleted)
                {
                    // Whichever comes first: items from the source to send, or results to yield.
                    await Task.WhenAny(head, reading).ConfigureAwait(false);
                    if (!head.IsCompleted)
                        continue;
                }
                var done = await inFlight.Dequeue().ConfigureAwait(false);
                foreach (var (result, _) in done)
                    yield return result;
            }
        }
        finally
        {
            if (inFlight.Count > 0 || reading is { IsCompleted: false })
                await stop.CancelAsync().ConfigureAwait(false);
            if (inFlight.Count > 0)
                await Task.WhenAll(inFlight).ConfigureAwait(false);
            // An enumerator is not disposed while a read is pending on it; the read was given the cancelled token.
            if (reading is not null)
                await Task.WhenAny(reading).ConfigureAwait(false);
            await source.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>The keys of a batch: the items' indexes in the input, made only when asked.</summary>
    private sealed class IndexKeys(long first, int count) : IReadOnlyList<string>
    {
        public string this[int index] => (uint)index < (uint)count ? (first + index).ToString(CultureInfo.InvariantCulture) : throw new ArgumentOutOfRangeException(nameof(index));

        public int Count => count;

        public IEnumerator<string> GetEnumerator()
        {
            for (var i = 0; i < count; i++)
                yield return this[i];
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }

    /// <summary>
    /// How many batches may be in flight and how large one may be: a child's share (ItemsPerWorker) in two batches, as
    /// a stage's window sends them; the batch sizer keeps a batch near 2 ms of work below that.
    /// </summary>
    private static (int MaxBatches, int MaxBatchItems) Window(PoolOptions options)
    {
        var batchesPerWorker = options.ItemsPerWorker >= 2 ? 2 : 1;
        return (options.Workers * batchesPerWorker, options.ItemsPerWorker / batchesPerWorker);
    }
}
