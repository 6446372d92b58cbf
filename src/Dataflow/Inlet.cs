using System.Threading.Tasks.Dataflow;

namespace Nursery;

/// <summary>
/// The queue in front of a stage's or sink's work: arrays of items, bounded by a number of items. The blocks of one
/// scope (and the run's feed) hand their items over here an array at a time, so a fast pipeline pays the Dataflow
/// offer protocol (a lock, a message header, maybe a task) per array instead of per item. Items offered through the
/// block's public <c>ITargetBlock</c> face arrive through a forwarder, which may still write after <see cref="Close"/>.
/// One reader.
/// </summary>
internal sealed class Inlet<T>(int capacity)
{
    /// <summary>The capacity the inlet was made with: <see cref="Resize"/> never goes above it.</summary>
    public int MaxCapacity { get; } = capacity;

    /// <summary>How many items may wait before writers wait now (see <see cref="Resize"/>).</summary>
    public int Capacity => Volatile.Read(ref _capacity);

    private readonly Lock _gate = new();
    private int _capacity = capacity;
    private readonly Queue<Item<T>[]> _arrays = new();
    private int _count;
    private bool _closed;
    private bool _forwarderDone;
    private TaskCompletionSource? _room;
    private TaskCompletionSource? _data;

    /// <summary>
    /// Lowers (or raises again, up to <see cref="MaxCapacity"/>) how many items may wait before writers wait: a stage
    /// keeps it near what its batches need, so a source of large items is not read thousands of items ahead.
    /// </summary>
    public void Resize(int items)
    {
        var resized = Math.Clamp(items, 1, MaxCapacity);
        // A stage calls this per batch, and the size rarely changes: no lock then.
        if (resized == Capacity)
            return;
        TaskCompletionSource? room = null;
        lock (_gate)
        {
            if (resized > _capacity && _count < resized)
                (room, _room) = (_room, null);
            Volatile.Write(ref _capacity, resized);
        }
        room?.TrySetResult();
    }

    /// <summary>Items waiting to be taken.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
                return _count;
        }
    }

    /// <summary>
    /// Queues <paramref name="items"/> (handed over: the caller keeps no reference) once fewer than the capacity are
    /// waiting (an array larger than the capacity goes into an empty queue). False when the inlet has been closed
    /// (the items were not taken) or <paramref name="cancellationToken"/> was cancelled first.
    /// </summary>
    public ValueTask<bool> WriteAsync(Item<T>[] items, CancellationToken cancellationToken = default) => WriteAsync(items, forwarder: false, cancellationToken);

    /// <summary>As <see cref="WriteAsync(Item{T}[], CancellationToken)"/> for the forwarder of the public face, which may write until it is done.</summary>
    private ValueTask<bool> ForwardAsync(Item<T>[] items) => WriteAsync(items, forwarder: true, CancellationToken.None);

    private async ValueTask<bool> WriteAsync(Item<T>[] items, bool forwarder, CancellationToken cancellationToken)
    {
        if (items.Length == 0)
            return !_closed || forwarder;
        while (true)
        {
            Task wait;
            TaskCompletionSource? reader = null;
            lock (_gate)
            {
                if (_closed && !forwarder)
                    return false;
                if (_count == 0 || _count + items.Length <= _capacity)
                {
                    _arrays.Enqueue(items);
                    _count += items.Length;
                    (reader, _data) = (_data, null);
                    wait = Task.CompletedTask;
                }
                else
                    wait = (_room ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
            }
            if (wait.IsCompleted)
            {
                reader?.TrySetResult();
                return true;
            }
            try
            {
                await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return false;
            }
        }
    }

    /// <summary>
    /// Moves every waiting array into <paramref name="into"/>, waiting for one if none is there. False when the inlet
    /// is closed, its forwarder done and nothing is left.
    /// </summary>
    public async ValueTask<bool> TakeAsync(List<Item<T>[]> into)
    {
        while (true)
        {
            Task wait;
            TaskCompletionSource? writers = null;
            lock (_gate)
            {
                if (_count > 0)
                {
                    while (_arrays.TryDequeue(out var array))
                        into.Add(array);
                    _count = 0;
                    (writers, _room) = (_room, null);
                    wait = Task.CompletedTask;
                }
                else if (_closed && _forwarderDone)
                    return false;
                else
                    wait = (_data ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
            }
            if (wait.IsCompleted)
            {
                writers?.TrySetResult();
                return true;
            }
            await wait.ConfigureAwait(false);
        }
    }

    /// <summary>No more writes except the forwarder's: writers waiting for room are told no; the reader drains what is queued.</summary>
    public void Close()
    {
        TaskCompletionSource? room, data;
        lock (_gate)
        {
            _closed = true;
            (room, _room) = (_room, null);
            (data, _data) = (_data, null);
        }
        room?.TrySetResult();
        data?.TrySetResult();
    }

    /// <summary>
    /// The forwarder: moves what is offered to the block's public face into the inlet, an array at a time, until the
    /// face has completed and is empty.
    /// </summary>
    public async Task ForwardFromAsync(BufferBlock<Item<T>> face)
    {
        try
        {
            while (await face.OutputAvailableAsync().ConfigureAwait(false))
            {
                if (face.TryReceiveAll(out var items))
                    await ForwardAsync([.. items]).ConfigureAwait(false);
            }
        }
        finally
        {
            ForwarderDone();
        }
    }

    /// <summary>The forwarder of the public face will write no more.</summary>
    private void ForwarderDone()
    {
        TaskCompletionSource? data;
        lock (_gate)
        {
            _forwarderDone = true;
            (data, _data) = (_data, null);
        }
        data?.TrySetResult();
    }
}

/// <summary>A block of a scope that other blocks of the scope (and the run's feed) hand items to an array at a time.</summary>
internal interface IInletBlock<T>
{
    Inlet<T> Inlet { get; }
}
