using System.Threading.Channels;

namespace Nursery.Engines;

/// <summary>
/// The order in which a stage's outputs leave. Batches are added in the order they were cut and read in that order
/// (ordered: a batch that completes early waits for those before it) or as they complete (unordered); an item sent on
/// by itself after its retries (unordered only) is read when it is done. One writer (the pump) for batches, one reader.
/// </summary>
internal sealed class Emissions<T>(bool ordered)
{
    private readonly Channel<Emission<T>> _channel = Channel.CreateUnbounded<Emission<T>>(new UnboundedChannelOptions { SingleReader = true });
    private readonly TaskCompletionSource _detachedDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _detached;
    private int _closing;

    /// <summary>Whether batches leave in the order they were cut.</summary>
    public bool Ordered => ordered;

    /// <summary>Adds a batch's outputs (read once complete), which holds a window slot until sent.</summary>
    public void Batch(Task<Item<T>[]> outputs)
    {
        if (ordered || outputs.IsCompleted)
            _channel.Writer.TryWrite(new Emission<T>(outputs, HoldsSlot: true));
        else
            _ = outputs.ContinueWith(static (done, state) => ((Channel<Emission<T>>)state!).Writer.TryWrite(new Emission<T>(done, HoldsSlot: true)), _channel, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>Adds an item sent on by itself, read when <paramref name="output"/> completes (it must not fault); <see cref="CloseAsync"/> waits for it.</summary>
    public void Detach(Task<Item<T>> output)
    {
        Interlocked.Increment(ref _detached);
        _ = EmitWhenDoneAsync(output);
    }

    private async Task EmitWhenDoneAsync(Task<Item<T>> output)
    {
        var item = await output.ConfigureAwait(false);
        _channel.Writer.TryWrite(new Emission<T>(Task.FromResult<Item<T>[]>([item]), HoldsSlot: false));
        if (Interlocked.Decrement(ref _detached) == 0 && Volatile.Read(ref _closing) == 1)
            _detachedDone.TrySetResult();
    }

    /// <summary>No batch will be added: once every detached item has been added, the reader ends after the last.</summary>
    public async Task CloseAsync()
    {
        Volatile.Write(ref _closing, 1);
        if (Volatile.Read(ref _detached) > 0)
            await _detachedDone.Task.ConfigureAwait(false);
        _channel.Writer.TryComplete();
    }

    /// <summary>A defect upstream: the reader ends with <paramref name="exception"/>.</summary>
    public void Fail(Exception exception) => _channel.Writer.TryComplete(exception);

    /// <summary>Every emission, in the order they leave; throws what <see cref="Fail"/> was given.</summary>
    public IAsyncEnumerable<Emission<T>> ReadAllAsync() => _channel.Reader.ReadAllAsync();
}
