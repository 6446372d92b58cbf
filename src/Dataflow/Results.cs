using System.Runtime.CompilerServices;
using System.Threading.Tasks.Dataflow;

namespace Nursery;

/// <summary>
/// The end of a pipeline as an <see cref="IAsyncEnumerable{T}"/>: every item that reaches it, success or failure, is
/// given to one <c>await foreach</c> loop, in the order the blocks before it send them (a stage with
/// <see cref="StageOptions.Ordered"/> keeps the source's order). It holds at most
/// <see cref="ResultsOptions.BoundedCapacity"/> items: a slow reader slows the stages and the source, so memory
/// stays bounded. A success counts as ended (and its job-log end line is written) when the loop asks for the item after
/// it; a failure is already in the run's result. Cancelling the enumeration's token, or leaving the loop before the
/// end, aborts the run (<see cref="AbortCause.Caller"/>): the items it still holds end <see cref="ChildFailure.Cancelled"/>,
/// and <c>RunAsync</c> returns once every child is reaped. After any abort the loop ends. Enumerate it once, while
/// <c>RunAsync</c> runs: nothing else takes its items. Never faults.
/// </summary>
public sealed class Results<T> : ITargetBlock<Item<T>>, INurseryBlock, IInletBlock<T>, IAsyncEnumerable<Item<T>>
{
    private readonly InletFront<T> _front;
    private readonly Inlet<T> _inlet;
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<INurseryBlock> _upstreams = [];
    private int _enumerated;

    internal Results(NurseryScope scope, ResultsOptions options)
    {
        Scope = scope;
        Name = options.Name;
        _front = new InletFront<T>(options.BoundedCapacity);
        _inlet = _front.Inlet;
    }

    /// <summary>The name.</summary>
    public string Name { get; }

    /// <summary>Completes when every item the results accepted has been read or, after an abort, ended Cancelled.</summary>
    public Task Completion => _completion.Task;

    NurseryScope INurseryBlock.Scope => Scope;

    Policy INurseryBlock.Policy => Scope.Options.DefaultPolicy;

    IReadOnlyList<INurseryBlock> INurseryBlock.Upstreams => _upstreams;

    Inlet<T> IInletBlock<T>.Inlet => _inlet;

    internal NurseryScope Scope { get; }

    /// <inheritdoc />
    public void Complete() => _front.Complete();

    /// <summary>A faulting upstream block aborts the run (it does not fault this block), then the block completes.</summary>
    public void Fault(Exception exception)
    {
        Scope.AbortForBlock($"a block sending to results '{Name}' faulted", exception);
        Complete();
    }

    /// <inheritdoc />
    public DataflowMessageStatus OfferMessage(DataflowMessageHeader messageHeader, Item<T> messageValue, ISourceBlock<Item<T>>? source, bool consumeToAccept) =>
        _front.Offer(messageHeader, messageValue, source, consumeToAccept);

    /// <summary>
    /// The items, as they reach the results. Cancelling <paramref name="cancellationToken"/> aborts the run and ends the
    /// loop with an <see cref="OperationCanceledException"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">The results is enumerated a second time.</exception>
    public IAsyncEnumerator<Item<T>> GetAsyncEnumerator(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _enumerated, 1) != 0)
            throw new InvalidOperationException($"Results '{Name}' are enumerated once; every item goes to that one loop. Make a new scope to run the pipeline again.");
        return ReadAsync(cancellationToken).GetAsyncEnumerator(cancellationToken);
    }

    void INurseryBlock.AddUpstream(INurseryBlock upstream) => _upstreams.Add(upstream);

    Task INurseryBlock.StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    void INurseryBlock.DiscardOutput() { }

    ValueTask INurseryBlock.StopAsync() => ValueTask.CompletedTask;

    /// <inheritdoc />
    public override string ToString() => $"Results {Name}";

    private async IAsyncEnumerable<Item<T>> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var registration = cancellationToken.Register(() => Stop("the reader of results '{0}' cancelled its enumeration"));
        var taken = new List<Item<T>[]>();
        // Where the loop is: the items from here on in taken are not read yet (ended Cancelled if the loop stops).
        var arrayAt = 0;
        var itemAt = 0;
        var finished = false;
        try
        {
            while (await _inlet.TakeAsync(taken).ConfigureAwait(false))
            {
                cancellationToken.ThrowIfCancellationRequested();
                for (arrayAt = 0; arrayAt < taken.Count; arrayAt++)
                {
                    var array = taken[arrayAt];
                    Delivering(array);
                    for (itemAt = 0; itemAt < array.Length; itemAt++)
                    {
                        if (Scope.IsAborted)
                            yield break;
                        var item = array[itemAt];
                        yield return item;
                        if (item.Value.IsRight)
                            Scope.Ledger.Succeeded(Name, item.Key, writeNow: false);
                    }
                }
                taken.Clear();
                (arrayAt, itemAt) = (0, 0);
                // The end lines of the items read so far go out before the loop waits for more.
                Scope.Ledger.JobLog?.Flush();
            }
            cancellationToken.ThrowIfCancellationRequested();
            finished = true;
            _completion.TrySetResult();
        }
        finally
        {
            if (!finished)
            {
                Stop("the reader of results '{0}' left its loop before the end");
                _ = DrainAsync(taken, arrayAt, itemAt);
            }
        }
    }

    /// <summary>Aborts the run (unless it has aborted already) and stops taking items.</summary>
    private void Stop(string reason)
    {
        Scope.Abort(string.Format(System.Globalization.CultureInfo.InvariantCulture, reason, Name), null, AbortCause.Caller);
        Complete();
    }

    /// <summary>
    /// After the loop stopped: the successes it held from <paramref name="arrayAt"/>/<paramref name="itemAt"/> on, and
    /// every one that still arrives, end Cancelled (the item the loop was given last among them: it never asked for the
    /// next, so its work may be unfinished). Never faults.
    /// </summary>
    private async Task DrainAsync(List<Item<T>[]> taken, int arrayAt, int itemAt)
    {
        try
        {
            var started = true;
            for (var a = arrayAt; a < taken.Count; a++)
            {
                for (var i = a == arrayAt ? itemAt : 0; i < taken[a].Length; i++)
                {
                    EndCancelled(taken[a][i], started);
                    started = false;
                }
            }
            taken.Clear();
            while (await _inlet.TakeAsync(taken).ConfigureAwait(false))
            {
                foreach (var array in taken)
                {
                    foreach (var item in array)
                        EndCancelled(item, itemStarted: false);
                }
                taken.Clear();
            }
            Scope.Ledger.JobLog?.Flush();
        }
        catch (Exception exception)
        {
            Scope.AbortForBlock($"results '{Name}' failed", exception);
        }
        _completion.TrySetResult();
    }

    private void EndCancelled(Item<T> item, bool itemStarted)
    {
        if (item.Value.IsRight)
            Scope.Ledger.Failed(Scope.AbortedFailure(Name, item.Key, 1, itemStarted));
    }

    /// <summary>A "(deliver)" line per success of <paramref name="array"/>, written before the loop is given any of them (as a sink does).</summary>
    private void Delivering(Item<T>[] array)
    {
        if (Scope.Ledger.JobLog is not { } journal)
            return;
        var now = DateTimeOffset.UtcNow;
        foreach (var item in array)
        {
            if (item.Value.IsRight)
                journal.Delivering(item.Key, Name, now);
        }
        journal.Flush();
    }
}
