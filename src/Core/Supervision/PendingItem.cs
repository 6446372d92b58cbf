using System.Buffers;

namespace Nursery.Supervision;

/// <summary>One item on its way through a worker: queued, then in flight in the child, then completed exactly once.</summary>
internal abstract class PendingItem(long id, int attempt)
{
    /// <summary>What only a tracked item carries: made when someone listens as it arrives, so an untracked item stays small.</summary>
    private Tracking? _tracking;

    public long Id { get; } = id;

    /// <summary>The item's key, for failures and logs; an item of a batch makes it only when asked.</summary>
    public abstract string Key { get; }

    public int Attempt { get; } = attempt;

    /// <summary>When the item was written to the child (Stopwatch ticks); 0 while queued.</summary>
    public long SentTimestamp { get; set; }

    /// <summary>Who reports this item's span and timings; null when nobody listened as it arrived.</summary>
    public Telemetry.WorkerTelemetry? Telemetry
    {
        get => _tracking?.Telemetry;
        set => (_tracking ??= new Tracking()).Telemetry = value;
    }

    /// <summary>When the item arrived at its worker (Stopwatch ticks); set only when it is tracked.</summary>
    public long QueuedTimestamp
    {
        get => _tracking?.QueuedTimestamp ?? 0;
        set => (_tracking ??= new Tracking()).QueuedTimestamp = value;
    }

    /// <summary>The item attempt's span; null when nobody records it.</summary>
    public System.Diagnostics.Activity? Activity
    {
        get => _tracking?.Activity;
        set => (_tracking ??= new Tracking()).Activity = value;
    }

    /// <summary>Takes the item off its caller's cancellation token, if it is on one.</summary>
    public virtual void Unregister() { }

    public abstract bool IsCompleted { get; }

    /// <summary>Encodes the input into the request frame; may throw if the input cannot be encoded.</summary>
    public abstract void WriteInput(IBufferWriter<byte> output);

    /// <summary>Decodes the result and completes with it; returns a failure when the bytes cannot be decoded.</summary>
    public abstract LanguageExt.Option<ChildFailure> TryCompleteWithResult(in ReadOnlySequence<byte> payload);

    /// <summary>Completes with a failure; false if the item was already complete.</summary>
    public abstract bool TryFail(ChildFailure failure);

    /// <summary>Called once, by the subclass, when the item has completed: ends its span and timings.</summary>
    protected void Ended(ChildFailure? failure) => Telemetry?.Ended(this, failure);

    private sealed class Tracking
    {
        public Nursery.Telemetry.WorkerTelemetry? Telemetry;
        public long QueuedTimestamp;
        public System.Diagnostics.Activity? Activity;
    }
}
