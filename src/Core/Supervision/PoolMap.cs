using System.Globalization;
using System.Runtime.CompilerServices;
using LanguageExt;

namespace Nursery.Supervision;

/// <summary><see cref="WorkerPool{TIn,TOut}.MapAsync"/>, over the pool's public face (<see cref="WorkerPool{TIn,TOut}.InvokeBatchAsync"/>).</summary>
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
        // A child's share (ItemsPerWorker) in two batches, as a stage's window sends them; the batch sizer keeps a
        // batch near 2 ms of work below that.
        var batchesPerWorker = pool.Options.ItemsPerWorker >= 2 ? 2 : 1;
        var maxBatches = pool.Options.Workers * batchesPerWorker;
        var maxBatchItems = pool.Options.ItemsPerWorker / batchesPerWorker;
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
}
