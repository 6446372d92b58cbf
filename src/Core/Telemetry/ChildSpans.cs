using System.Collections.Concurrent;
using System.Diagnostics;
using Nursery.Protocol;

namespace Nursery.Telemetry;

/// <summary>
/// The spans a child sends back, started again in this process through activity sources of the same names, so that
/// whatever listens here (an OpenTelemetry exporter) sees a body's spans in its item's trace. A span keeps its name,
/// kind, times, status and tags and gets a new span id (an <see cref="Activity"/> cannot be given one); its parent is
/// the re-started span of its parent in the child, or the item's span for the body's outermost spans.
/// </summary>
internal static class ChildSpans
{
    private static readonly ConcurrentDictionary<string, ActivitySource> Sources = new(StringComparer.Ordinal);

    /// <summary>Starts and stops <paramref name="spans"/> here; a source nobody listens to here drops its spans. Never throws.</summary>
    public static void Replay(IReadOnlyList<ChildSpan> spans, int processId)
    {
        var current = Activity.Current;
        try
        {
            var bySpanId = new Dictionary<ActivitySpanId, ChildSpan>(spans.Count);
            foreach (var span in spans)
                bySpanId[span.SpanId] = span;
            var replayed = new Dictionary<ActivitySpanId, ActivityContext>(spans.Count);
            foreach (var span in spans)
                Replay(span, bySpanId, replayed, processId, depth: 0);
        }
        finally
        {
            Activity.Current = current;
        }
    }

    private static ActivityContext Replay(ChildSpan span, Dictionary<ActivitySpanId, ChildSpan> bySpanId, Dictionary<ActivitySpanId, ActivityContext> replayed, int processId, int depth)
    {
        if (replayed.TryGetValue(span.SpanId, out var done))
            return done;
        // Parents first; a cycle or a chain deeper than any real one (a child's malformed ids) stops at the item.
        var parent = bySpanId.TryGetValue(span.ParentSpanId, out var parentSpan) && depth < 64 && parentSpan != span
            ? Replay(parentSpan, bySpanId, replayed, processId, depth + 1)
            : new ActivityContext(span.TraceId, span.ParentSpanId, ActivityTraceFlags.Recorded);
        var source = Sources.GetOrAdd(span.Source, static name => new ActivitySource(name));
        var activity = source.StartActivity(span.Name, span.Kind, parent, span.Tags, startTime: span.StartUtc);
        if (activity is null)
        {
            replayed[span.SpanId] = parent;
            return parent;
        }
        activity.SetTag("nursery.child.pid", processId);
        if (span.Status != ActivityStatusCode.Unset)
            activity.SetStatus(span.Status, span.StatusDescription.Length > 0 ? span.StatusDescription : null);
        activity.SetEndTime(span.StartUtc + span.Duration);
        activity.Stop();
        replayed[span.SpanId] = activity.Context;
        return activity.Context;
    }
}
