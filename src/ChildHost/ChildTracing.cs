using System.Collections.Concurrent;
using System.Diagnostics;
using Nursery.Protocol;

namespace Nursery.ChildHost;

/// <summary>
/// Traces across the process boundary, child side. The parent sends the trace context of each traced item before the
/// item; while the item runs, an activity that stands for the parent's item span is current, so the body's own spans
/// (any activity source) are its children. Those spans are recorded here, sent back in a Spans frame before the
/// item's reply (their parent renamed to the item's span), and started again in the parent, where its exporters are.
/// Nothing is listened to until the first trace context arrives.
/// </summary>
internal static class ChildTracing
{
    private static readonly Lock Gate = new();
    private static readonly List<ChildSpan> Collected = [];
    private static ActivityTraceId _collecting;
    private static ActivityListener? _listener;

    /// <summary>
    /// How many contexts wait in <see cref="Contexts.Pending"/>: read first for every item, because an empty
    /// ConcurrentDictionary answers IsEmpty by taking all of its locks, and an untraced child never makes it.
    /// </summary>
    private static int _pendingCount;

    /// <summary>Trace contexts for items about to arrive (receiver thread).</summary>
    public static void Expect(List<ItemTraceContext> contexts)
    {
        if (_listener is null)
            Listen();
        foreach (var context in contexts)
        {
            if (Contexts.Pending.TryAdd(context.Id, context))
                Interlocked.Increment(ref _pendingCount);
            else
                Contexts.Pending[context.Id] = context;
        }
    }

    /// <summary>Makes the item's span the current activity if the item is traced (serving thread); null otherwise.</summary>
    public static Activity? Begin(long id)
    {
        if (Volatile.Read(ref _pendingCount) == 0 || !Contexts.Pending.TryRemove(id, out var context))
            return null;
        Interlocked.Decrement(ref _pendingCount);
        var standIn = new Activity("nursery.item");
        standIn.SetParentId(context.TraceId, context.SpanId, context.Flags);
        lock (Gate)
        {
            Collected.Clear();
            _collecting = context.TraceId;
        }
        return standIn.Start();
    }

    /// <summary>Ends the item's stand-in and sends what the body recorded under it (serving thread).</summary>
    public static void End(Activity standIn, ProtocolChannel channel)
    {
        standIn.Stop();
        Activity.Current = null;
        ChildSpan[] spans;
        lock (Gate)
        {
            spans = [.. Collected];
            Collected.Clear();
            _collecting = default;
        }
        if (spans.Length == 0)
            return;
        var itemSpan = standIn.ParentSpanId;
        for (var i = 0; i < spans.Length; i++)
        {
            if (spans[i].ParentSpanId == standIn.SpanId)
                spans[i] = spans[i] with { ParentSpanId = itemSpan };
        }
        using var frame = new FrameBuffer(4096);
        TraceFrames.WriteSpans(frame, spans);
        // Spans are worth less than the item's reply: too many (a body that records thousands per item) are dropped.
        if (frame.Length - FrameParser.HeaderLength <= FrameBounds.MaxSpansPayload)
            channel.Send(frame);
    }

    private static void Listen()
    {
        _listener = new ActivityListener
        {
            // The stand-in has no source (its name is empty): it is not recorded, only the body's spans are.
            ShouldListenTo = source => source.Name.Length > 0,
            Sample = static (ref ActivityCreationOptions<ActivityContext> options) => IsCollected(options.Parent) ? ActivitySamplingResult.AllDataAndRecorded : ActivitySamplingResult.None,
            ActivityStopped = static activity =>
            {
                lock (Gate)
                {
                    if (activity.TraceId == _collecting && activity.Recorded)
                        Collected.Add(new ChildSpan(activity.Source.Name, activity.DisplayName, activity.Kind, activity.TraceId, activity.SpanId, activity.ParentSpanId, activity.StartTimeUtc, activity.Duration, activity.Status, activity.StatusDescription ?? "", [.. activity.TagObjects]));
                }
            },
        };
        ActivitySource.AddActivityListener(_listener);
    }

    private static bool IsCollected(ActivityContext parent)
    {
        if ((parent.TraceFlags & ActivityTraceFlags.Recorded) == 0)
            return false;
        lock (Gate)
            return parent.TraceId == _collecting;
    }

    /// <summary>
    /// The contexts of items about to run, made on the first one: a ConcurrentDictionary over a value-type key is not
    /// precompiled, and a child that is never traced would JIT-compile it with its first item.
    /// </summary>
    private static class Contexts
    {
        public static readonly ConcurrentDictionary<long, ItemTraceContext> Pending = new();
    }
}
