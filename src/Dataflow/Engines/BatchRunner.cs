using LanguageExt;
using Nursery.Supervision;

namespace Nursery.Engines;

/// <summary>
/// Runs a stage's batches: Lefts pass on untouched; values go to one child as a batch; successes are counted at
/// once and each failure goes through the stage's <see cref="AttemptLoop"/>. A retried item is waited for (ordered)
/// or sent on by itself when done (unordered), so a backoff does not hold the batch's window slot.
/// </summary>
internal sealed class BatchRunner<TIn, TOut>(NurseryScope scope, string name, IItemRunner<TIn, TOut> pool, AttemptLoop attempts, Emissions<TOut> emissions, long memoryLimit)
{
    public NurseryScope Scope => scope;

    public IItemRunner<TIn, TOut> Pool => pool;

    /// <summary>Whether the stage sends to blocks of its scope (its items end further on) rather than to your own blocks (they end here).</summary>
    public bool LinkedToScope { get; set; }

    /// <summary>An item that came through its retries: counted as ended when it ends here.</summary>
    public void Succeeded(string key)
    {
        if (!LinkedToScope)
            scope.Ledger.Succeeded(name, key);
    }

    /// <summary>Runs one batch; its outputs in the batch's order, without the items sent on by themselves. Never throws.</summary>
    public async Task<Item<TOut>[]> RunAsync(Item<TIn>[] batch)
    {
        var outputs = new Item<TOut>[batch.Length];
        // The batch's item attempts (and their retries) go under the stage's span; set here, it ends with this call.
        if (scope.StageActivity(name) is { } stage)
            System.Diagnostics.Activity.Current = stage;
        try
        {
            // Where the batch's values are (its Lefts pass on untouched); null when every item is a value, as usual.
            var positions = PassLeftsOn(batch, outputs);
            var count = positions?.Count ?? batch.Length;
            if (count == 0)
                return outputs;
            var inputs = new TIn[count];
            var keys = new string[count];
            for (var j = 0; j < count; j++)
            {
                ref readonly var item = ref batch[positions?[j] ?? j];
                inputs[j] = item.Value.Match(static value => value, static _ => throw new InvalidOperationException());
                keys[j] = item.Key;
            }
            if (scope.IsAborted)
            {
                for (var j = 0; j < count; j++)
                {
                    var failure = scope.AbortedFailure(name, keys[j], 1, itemStarted: false);
                    scope.Ledger.Failed(failure);
                    outputs[positions?[j] ?? j] = new Item<TOut>(keys[j], Prelude.Left<ChildFailure, TOut>(failure));
                }
                return outputs;
            }

            var start = DateTimeOffset.UtcNow;
            var results = await pool.InvokeBatchAsync(inputs, keys, scope.Token).ConfigureAwait(false);
            var end = DateTimeOffset.UtcNow;

            // Successes first, counted before any failure goes through the policy (which may abort the run). Their
            // keys are listed only when a record is kept, a job log written or the items end here.
            var linkedToScope = LinkedToScope;
            var listKeys = scope.Ledger.KeepsSuccesses || !linkedToScope;
            var succeededKeys = listKeys ? new List<string>(results.Length) : null;
            var succeededPids = listKeys ? new List<int>(results.Length) : null;
            var succeeded = 0;
            for (var j = 0; j < results.Length; j++)
            {
                var (result, pid) = results[j];
                if (result.IsRight)
                {
                    succeeded++;
                    succeededKeys?.Add(keys[j]);
                    succeededPids?.Add(pid);
                    outputs[positions?[j] ?? j] = new Item<TOut>(keys[j], result);
                }
            }
            if (succeededKeys is null || succeededPids is null)
                scope.Ledger.Succeeded(name, succeeded);
            else
            {
                scope.Ledger.Succeeded(name, succeededKeys, succeededPids, start, end);
                if (!linkedToScope)
                    scope.Ledger.Ended(name, succeededKeys);
            }

            List<Task>? waits = null;
            var detached = false;
            for (var j = 0; j < results.Length; j++)
            {
                var (result, pid) = results[j];
                if (result.IsRight)
                    continue;
                var position = positions?[j] ?? j;
                var key = keys[j];
                var finished = attempts.RunAsync<TOut, PoolAttempt<TIn, TOut>>(key, new PoolAttempt<TIn, TOut>(this, key, inputs[j], new Attempted<TOut>(result, pid, start, end)), memoryLimit, firstStarted: true);
                if (finished.IsCompleted)
                    outputs[position] = new Item<TOut>(key, await finished.ConfigureAwait(false));
                else if (emissions.Ordered)
                    (waits ??= []).Add(WaitIntoAsync(outputs, position, key, finished));
                else
                {
                    // Sent on by itself when its retries end; the batch's output keeps a placeholder that is skipped.
                    outputs[position] = default;
                    detached = true;
                    emissions.Detach(OutputWhenDoneAsync(key, finished));
                }
            }
            if (waits is not null)
                await Task.WhenAll(waits).ConfigureAwait(false);
            return detached ? Array.FindAll(outputs, output => output.Key is not null) : outputs;
        }
        catch (Exception exception)
        {
            // A defect here must not fault the block (that would strand items); it becomes the failure of every item
            // of the batch that has no output yet.
            var failure = new ChildFailure.Faulted(RemoteError.From(exception)) { Stage = name };
            scope.Abort(failure);
            for (var i = 0; i < batch.Length; i++)
            {
                if (outputs[i].Key is null)
                {
                    var own = failure with { Key = batch[i].Key };
                    scope.Ledger.Failed(own);
                    outputs[i] = new Item<TOut>(batch[i].Key, Prelude.Left<ChildFailure, TOut>(own));
                }
            }
            return outputs;
        }
    }

    /// <summary>
    /// Puts the batch's Lefts into <paramref name="outputs"/> as they are and gives the positions of its values; null
    /// (nothing allocated) when the batch has no Left.
    /// </summary>
    private static List<int>? PassLeftsOn(Item<TIn>[] batch, Item<TOut>[] outputs)
    {
        List<int>? positions = null;
        for (var i = 0; i < batch.Length; i++)
        {
            if (batch[i].Value.IsLeft)
            {
                if (positions is null)
                {
                    positions = new List<int>(batch.Length);
                    for (var before = 0; before < i; before++)
                        positions.Add(before);
                }
                outputs[i] = new Item<TOut>(batch[i].Key, Prelude.Left<ChildFailure, TOut>(batch[i].Value.Match(static _ => throw new InvalidOperationException(), static failure => failure)));
            }
            else
                positions?.Add(i);
        }
        return positions;
    }

    private static async Task WaitIntoAsync(Item<TOut>[] outputs, int position, string key, Task<Either<ChildFailure, TOut>> finished) =>
        outputs[position] = new Item<TOut>(key, await finished.ConfigureAwait(false));

    /// <summary>An item sent on by itself: its final result, or (a defect) a Faulted failure that aborts the run. Never faults.</summary>
    private async Task<Item<TOut>> OutputWhenDoneAsync(string key, Task<Either<ChildFailure, TOut>> finished)
    {
        try
        {
            return new Item<TOut>(key, await finished.ConfigureAwait(false));
        }
        catch (Exception exception)
        {
            var failure = new ChildFailure.Faulted(RemoteError.From(exception)) { Stage = name, Key = key };
            scope.Ledger.Failed(failure);
            scope.Abort(failure);
            return new Item<TOut>(key, Prelude.Left<ChildFailure, TOut>(failure));
        }
    }
}
