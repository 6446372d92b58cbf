using System.Diagnostics;
using System.Threading.Channels;
using Nursery.Protocol;

namespace Nursery.Supervision;

/// <summary>The sending side: the writer that drains the queue into request frames and books what it sent.</summary>
internal sealed partial class WorkerCore
{
    private const int MaxItemBytes = 60 << 20;
    private const int MaxBatchBytes = 8 << 20;

    /// <summary>What waits for the writer: one item, or the items of a batch.</summary>
    private readonly record struct Queued(PendingItem? One, PendingItem[]? Many);

    private async Task FeedStdinAsync(Stream stdin, CancellationToken cancellationToken)
    {
        // The rest of a batch that did not fit in the last frame.
        PendingItem[]? carried = null;
        var carriedAt = 0;
        FrameBuffer? traceBuffer = null;
        try
        {
            if (!await _wire.GreetAsync(stdin, cancellationToken).ConfigureAwait(false))
                return;
            using var buffer = new FrameBuffer(64 * 1024);
            var sending = new List<PendingItem>();
            var reader = _queue.Reader;
            while (carried is not null || await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                buffer.Clear();
                sending.Clear();
                var mark = _wire.BeginBatch(buffer);
                while (sending.Count < _options.MaxFrameItems && buffer.Length < MaxBatchBytes)
                {
                    PendingItem item;
                    if (carried is not null)
                    {
                        item = carried[carriedAt++];
                        if (carriedAt == carried.Length)
                            carried = null;
                    }
                    else if (!reader.TryRead(out var queued))
                        break;
                    else if (queued.One is not null)
                        item = queued.One;
                    else if (queued.Many is null)
                        continue; // a wake-up for stop requests, sent below
                    else
                    {
                        (carried, carriedAt) = queued.Many!.Length > 0 ? (queued.Many, 0) : (null, 0);
                        continue;
                    }
                    if (TryEncodeItem(buffer, item))
                        sending.Add(item);
                }
                if (!_stopRequests.IsEmpty)
                    await SendStopsAsync(stdin, cancellationToken).ConfigureAwait(false);
                if (sending.Count == 0 || !Register(sending))
                    continue;
                _wire.EndBatch(buffer, mark, sending.Count);
                if (TraceContexts(sending, ref traceBuffer) is { } contexts)
                    await stdin.WriteAsync(contexts.WrittenMemory, cancellationToken).ConfigureAwait(false);
                await stdin.WriteAsync(buffer.WrittenMemory, cancellationToken).ConfigureAwait(false);
                await stdin.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) { }
        catch (IOException)
        {
            // The child is gone; FinishAsync reports why.
        }
        finally
        {
            traceBuffer?.Dispose();
            if (carried is not null)
                _ = FailWhenEndedAsync(carried[carriedAt..]);
        }
    }

    /// <summary>Writes the queued stop requests as Stop frames.</summary>
    private async Task SendStopsAsync(Stream stdin, CancellationToken cancellationToken)
    {
        var ids = new List<long>();
        while (_stopRequests.TryDequeue(out var id))
            ids.Add(id);
        using var frames = new FrameBuffer(64 + (8 * ids.Count));
        foreach (var chunk in ids.Chunk(Batch.MaxStopsPerFrame))
            _wire.WriteStops(frames, chunk);
        await stdin.WriteAsync(frames.WrittenMemory, cancellationToken).ConfigureAwait(false);
        await stdin.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The TraceContext frame for the recorded spans among <paramref name="sending"/>, written just before their request
    /// frame so the child finds each item's context when it starts the item; null when none is recorded or the wire
    /// carries no trace context.
    /// </summary>
    private FrameBuffer? TraceContexts(List<PendingItem> sending, ref FrameBuffer? traceBuffer)
    {
        if (!_wire.CarriesTraceContext)
            return null;
        List<ItemTraceContext>? contexts = null;
        foreach (var item in sending)
        {
            if (Telemetry.WorkerTelemetry.ContextOf(item) is { } context)
                (contexts ??= []).Add(context);
        }
        if (contexts is null)
            return null;
        traceBuffer ??= new FrameBuffer(1024);
        traceBuffer.Clear();
        _wire.WriteTraceContexts(traceBuffer, contexts);
        return traceBuffer;
    }

    /// <summary>
    /// Items that were never sent, failed (not started) once the worker's end is known, with its cause: when its end has
    /// been handled, or when the clean-up after the reaping is over, whichever comes first (the clean-up ends even if
    /// it failed before handling the end).
    /// </summary>
    private async Task FailWhenEndedAsync(PendingItem[] items)
    {
        await Task.WhenAny(_endSeen.Task, _completion).ConfigureAwait(false);
        ChildFailure? cause;
        lock (_gate)
            cause = _cause;
        foreach (var item in items)
            item.TryFail(NotStarted(item, cause, "not started: its worker ended before sending it"));
    }

    private bool TryEncodeItem(FrameBuffer buffer, PendingItem item)
    {
        if (item.IsCompleted)
            return false;
        var mark = buffer.Length;
        try
        {
            _wire.WriteItem(buffer, item);
            if (buffer.Length - mark > MaxItemBytes)
                throw new InvalidOperationException($"the encoded item is {buffer.Length - mark} bytes, over the {MaxItemBytes}-byte limit of one item; send a path or a reference to large data instead");
            return true;
        }
        catch (Exception exception)
        {
            buffer.Truncate(mark);
            var error = RemoteError.From(exception) with { Message = $"the parent could not encode the item: {exception.Message}" };
            item.TryFail(Stamp(new ChildFailure.Faulted(error), item));
            return false;
        }
    }

    /// <summary>
    /// Records the items of a frame as in flight, under one lock, before the frame is written. If the worker has ended
    /// they fail (not started) and the frame is not sent. An item cancelled since it was encoded is still sent, and
    /// its reply ignored.
    /// </summary>
    private bool Register(List<PendingItem> items)
    {
        var now = Stopwatch.GetTimestamp();
        ChildFailure? cause;
        lock (_gate)
        {
            if (!_ended)
            {
                _book.Register(items, now);
                foreach (var item in items)
                    item.Telemetry?.Sent(item, now, ProcessId);
                return true;
            }
            cause = _cause;
        }
        foreach (var item in items)
            item.TryFail(NotStarted(item, cause, "the worker ended before the item was sent"));
        return false;
    }
}
