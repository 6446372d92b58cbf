using System.Globalization;
using System.Threading.Tasks.Dataflow;
using LanguageExt;

namespace Nursery;

/// <summary>The feed of a run: the source read into the entry block, every item it gives counted once.</summary>
internal static class SourceFeed
{
    /// <summary>
    /// Reads the source into the entry, a chunk at a time, until the source ends or the run aborts. The abort is
    /// checked before each read, so the source is not read again after it; an item a read gives has left the source
    /// and is counted whatever happened meanwhile (after an abort it ends Cancelled). The reads are marked in
    /// <paramref name="state"/>: one still going long after an abort is left behind by <see cref="PipelineRun.WaitForFeedAsync"/>,
    /// which then settles what the feed holds; what such a read gives later is logged, not counted.
    /// </summary>
    public static async Task FeedAsync<T>(NurseryScope scope, Ledger ledger, IAsyncEnumerable<T> source, ITargetBlock<Item<T>> entry, Func<T, string>? key, IReadOnlySet<string> resumed, FeedState state)
    {
        // Off the caller's thread and context: a source that blocks blocks a pool thread, never the caller of RunAsync.
        await Task.CompletedTask.ConfigureAwait(ConfigureAwaitOptions.ForceYielding);
        var entryBlock = (INurseryBlock)entry;
        // Every block of the scope (RunAsync checked the entry is one) is handed the items an array at a time: what
        // the source gives at once, up to a chunk.
        var inlet = ((IInletBlock<T>)entry).Inlet;
        var chunk = new List<Item<T>>();
        // A chunk is up to an eighth of what the entry may hold now (it adapts to its batches), at most 128 items.
        int ChunkSize() => Math.Clamp(inlet.Capacity / 8, 1, 128);
        var index = 0L;
        // Inputs are counted a chunk at a time (before the chunk can reach a block, or when it fails unsent): one
        // interlocked add per chunk instead of one per item.
        var uncounted = 0;
        // Run by WaitForFeedAsync, under the state's lock, when it leaves the feed stuck in a read: the feed touches
        // neither the chunk nor the books again.
        state.Settle = FailUnsent;
        IAsyncEnumerator<T>? items = null;
        var left = false;
        try
        {
            state.BeginRead();
            try
            {
                items = source.GetAsyncEnumerator(scope.Token);
            }
            finally
            {
                state.EndRead();
            }
            while (!scope.IsAborted)
            {
                bool more;
                var sent = true;
                T value = default!;
                string itemKey = "";
                Exception? keyError = null;
                // The read, and the key function with it: either may fail to return, and the run can leave either behind.
                state.BeginRead();
                try
                {
                    var next = items.MoveNextAsync();
                    if (!next.IsCompleted && chunk.Count > 0)
                    {
                        // Never hold read items while waiting for the source.
                        state.EndRead();
                        sent = await SendChunkAsync().ConfigureAwait(false);
                        state.BeginRead();
                    }
                    more = await next.ConfigureAwait(false);
                    if (more)
                    {
                        value = items.Current;
                        itemKey = KeyOf(value, index, out keyError);
                    }
                }
                finally
                {
                    state.EndRead();
                }
                if (scope.IsAborted && state.IsLeft)
                {
                    left = true;
                    if (more)
                        RunLog.ItemsAfterReturn(scope.Options.Logger, itemKey);
                    break;
                }
                if (!more)
                    break;
                Take(value, itemKey, keyError);
                if (!sent || (chunk.Count >= ChunkSize() && !await SendChunkAsync().ConfigureAwait(false)))
                    break;
            }
            if (chunk.Count > 0 && !scope.IsAborted)
                await SendChunkAsync().ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (scope.IsAborted) { }
        catch (Exception exception)
        {
            // What was read before the source failed ends Cancelled, naming the failure.
            scope.AbortForBlock("reading the source", exception);
        }
        if (items is not null)
        {
            state.BeginRead();
            try
            {
                await items.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception exception)
            {
                scope.AbortForBlock("disposing the source's enumerator", exception);
            }
            finally
            {
                state.EndRead();
            }
        }
        if (left || (scope.IsAborted && state.IsLeft))
            return;
        FailUnsent();
        lock (state.Gate)
            state.Finished = true;
        ledger.SourceDone();

        // Puts the item into the chunk, or ends it at once when it cannot go on (a null, a key that cannot be made).
        void Take(T value, string itemKey, Exception? keyError)
        {
            var at = index++;
            ChildFailure? failure = null;
            if (value is null)
                failure = NullInput(entryBlock.Name, itemKey, at);
            else if (keyError is not null)
                failure = new ChildFailure.Faulted(RemoteError.From(keyError)) { Stage = "(key)", Key = itemKey };
            else if (resumed.Contains(itemKey))
            {
                ledger.Resumed();
                return;
            }
            uncounted++;
            if (failure is null)
            {
                chunk.Add(new Item<T>(itemKey, Prelude.Right<ChildFailure, T>(value!)));
                return;
            }
            // Counted with what is in the chunk (counting ahead of the send is fine), then ended here.
            CountInputs();
            ledger.Failed(failure);
            if (keyError is not null && value is not null)
                scope.Abort($"the key function failed for the item at index {at}: {failure.Summary}", failure, AbortCause.BlockFaulted);
            else if ((entryBlock.Policy is RetryPolicy retry ? retry.Then : entryBlock.Policy) == Policy.FailFast)
                scope.Abort(failure);
        }

        // The item's key: its index unless a key function is given; its index too, with the error, when that fails.
        string KeyOf(T value, long at, out Exception? error)
        {
            error = null;
            if (key is not null)
            {
                try
                {
                    return key(value) ?? throw new InvalidOperationException("the key function returned null; a key must be a string");
                }
                catch (Exception exception)
                {
                    error = exception;
                }
            }
            return at.ToString(CultureInfo.InvariantCulture);
        }

        // False when the entry declined (the items are counted failed); false also ends the feed after an abort.
        async Task<bool> SendChunkAsync()
        {
            CountInputs();
            if (await inlet.WriteAsync([.. chunk], scope.Token).ConfigureAwait(false))
            {
                chunk.Clear();
                return true;
            }
            FailUnsent();
            return !scope.IsAborted;
        }

        void CountInputs()
        {
            if (uncounted > 0)
                ledger.Input(uncounted);
            uncounted = 0;
        }

        void FailUnsent()
        {
            CountInputs();
            foreach (var item in chunk)
                ledger.Failed(scope.IsAborted ? scope.AbortedFailure(entryBlock.Name, item.Key, 1, false) : new ChildFailure.Cancelled("the first block declined the item", Option<ChildFailure>.None, false) { Stage = entryBlock.Name, Key = item.Key });
            chunk.Clear();
        }
    }

    /// <summary>The failure of a null the source gave: a null cannot be sent to a child (nor carried as a Right).</summary>
    private static ChildFailure.Faulted NullInput(string entry, string key, long index) =>
        new(new RemoteError("Nursery.NullInput", $"the source gave null for this item (index {index}); a null cannot be sent to a child: filter nulls out of the source, or give values that carry an empty case (an Option, a record)", "", []))
        {
            Stage = entry,
            Key = key,
        };
}
