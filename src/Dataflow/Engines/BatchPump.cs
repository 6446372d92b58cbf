using Nursery.Supervision;

namespace Nursery.Engines;

/// <summary>
/// A stage's batching: takes what is queued at its inlet (never waiting to fill a batch), cuts it into batches sized
/// by the batch sizer and runs each, within a window of batches in flight (at most two per child: one running, one
/// queued behind it, each at most half of what a child may hold). The inlet's automatic capacity follows the batch
/// size. Batches go to the <see cref="Emissions{T}"/>, which are closed when the inlet is done and every batch has
/// been sent on (<see cref="Release"/>).
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The window is used only through WaitAsync and Release, which make no wait handle: nothing to dispose.")]
internal sealed class BatchPump<TIn, TOut>
{
    /// <summary>The fewest items the automatic input capacity keeps waiting.</summary>
    private const int MinimumAdaptedCapacity = 16;

    private readonly Func<int, int> _nextBatchSize;
    private readonly Emissions<TOut> _emissions;
    private readonly Func<Item<TIn>[], Task<Item<TOut>[]>> _run;
    private readonly SemaphoreSlim _window;
    private readonly int _maxBatches;
    private readonly int _maxBatchItems;
    private readonly bool _adaptsCapacity;

    /// <param name="workers">Children that run batches at once.</param>
    /// <param name="itemsPerWorker">Items a child may hold at once.</param>
    /// <param name="boundedCapacity">Items that may wait at the inlet; 0 follows the batch size.</param>
    /// <param name="nextBatchSize">The next batch's size, given the most it may be.</param>
    /// <param name="emissions">Where each batch's outputs go.</param>
    /// <param name="run">Runs one batch; never throws.</param>
    public BatchPump(int workers, int itemsPerWorker, int boundedCapacity, Func<int, int> nextBatchSize, Emissions<TOut> emissions, Func<Item<TIn>[], Task<Item<TOut>[]>> run)
    {
        _nextBatchSize = nextBatchSize;
        _emissions = emissions;
        _run = run;
        var batchesPerWorker = itemsPerWorker >= 2 ? 2 : 1;
        _maxBatches = workers * batchesPerWorker;
        _maxBatchItems = Math.Max(1, itemsPerWorker / batchesPerWorker);
        _window = new SemaphoreSlim(_maxBatches, _maxBatches);
        InFlight = _maxBatches * _maxBatchItems;
        // As many waiting as may be in flight: enough to refill every batch as it completes.
        Inlet = new Inlet<TIn>(boundedCapacity > 0 ? boundedCapacity : InFlight);
        _adaptsCapacity = boundedCapacity == 0;
        FollowBatchSize(1); // until the batch sizer has seen a batch
    }

    /// <summary>The queue the pump takes its items from.</summary>
    public Inlet<TIn> Inlet { get; }

    /// <summary>The most items in the batches of the window.</summary>
    public int InFlight { get; }

    /// <summary>
    /// Runs until the inlet is done and every batch has been sent on, then closes the emissions; a defect fails them
    /// (the stage then faults and the scope aborts the run) rather than strand items silently. Never throws.
    /// </summary>
    public async Task RunAsync()
    {
        try
        {
            var taken = new List<Item<TIn>[]>();
            var held = new List<Item<TIn>>();
            var at = 0;
            while (true)
            {
                if (at >= held.Count)
                {
                    held.Clear();
                    taken.Clear();
                    at = 0;
                    if (!await Inlet.TakeAsync(taken).ConfigureAwait(false))
                        break;
                    foreach (var array in taken)
                        held.AddRange(array);
                }
                await _window.WaitAsync().ConfigureAwait(false);
                var size = _nextBatchSize(_maxBatchItems);
                FollowBatchSize(size);
                var batch = new Item<TIn>[Math.Min(held.Count - at, size)];
                held.CopyTo(at, batch, 0, batch.Length);
                at += batch.Length;
                _emissions.Batch(_run(batch));
            }
            for (var slot = 0; slot < _maxBatches; slot++)
                await _window.WaitAsync().ConfigureAwait(false);
            await _emissions.CloseAsync().ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            _emissions.Fail(exception);
        }
    }

    /// <summary>A batch's outputs have been sent on: its slot in the window is free.</summary>
    public void Release() => _window.Release();

    /// <summary>
    /// The automatic input capacity follows the batch size: two rounds of batches wait at most (4 per child), so
    /// trivial items keep Workers × ItemsPerWorker waiting while items that go one at a time keep a few, instead of a
    /// source of large items being read thousands of items ahead. A capacity the user set stays.
    /// </summary>
    private void FollowBatchSize(int size)
    {
        if (_adaptsCapacity)
            Inlet.Resize(Math.Max(_maxBatches * size * 2, MinimumAdaptedCapacity));
    }
}
