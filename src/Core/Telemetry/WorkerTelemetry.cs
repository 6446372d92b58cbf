using System.Diagnostics;
using Nursery.Protocol;
using Nursery.Supervision;

namespace Nursery.Telemetry;

/// <summary>
/// What one worker reports: a span per item attempt (from its arrival at the worker to its end; the child's spans
/// go under it), the item and child histograms, and the gauges of items in flight and live children. An item is
/// tracked only when someone listens; otherwise it costs a check per item.
/// </summary>
internal sealed class WorkerTelemetry(Instruments instruments, string stage)
{
    private readonly KeyValuePair<string, object?> _stage = new("stage", stage);

    /// <summary>An item arrived at the worker: its span starts under the caller's current activity, and it counts as in flight.</summary>
    public void Queued(PendingItem item)
    {
        var traced = Tracing.Source.HasListeners();
        if (!traced && !instruments.ItemsObserved)
            return;
        item.Telemetry = this;
        item.QueuedTimestamp = Stopwatch.GetTimestamp();
        instruments.InFlight.Add(1, _stage);
        if (!traced)
            return;
        var activity = Tracing.StartDetached("nursery.item", ActivityKind.Internal);
        if (activity is null)
            return;
        activity.SetTag("nursery.stage", stage);
        activity.SetTag("nursery.key", item.Key);
        activity.SetTag("nursery.attempt", item.Attempt);
        item.Activity = activity;
    }

    /// <summary>The item was written to child <paramref name="processId"/> at <paramref name="now"/>.</summary>
    public void Sent(PendingItem item, long now, int processId)
    {
        instruments.QueueWait.Record(Stopwatch.GetElapsedTime(item.QueuedTimestamp, now).TotalSeconds, _stage);
        item.Activity?.SetTag("nursery.pid", processId);
    }

    /// <summary>The item ended: with a result (<paramref name="failure"/> null) or a failure.</summary>
    public void Ended(PendingItem item, ChildFailure? failure)
    {
        instruments.InFlight.Add(-1, _stage);
        var outcome = failure is null ? "Succeeded" : failure.Kind.ToString();
        if (item.SentTimestamp > 0)
            instruments.ItemDuration.Record(Stopwatch.GetElapsedTime(item.SentTimestamp).TotalSeconds, _stage, new KeyValuePair<string, object?>("outcome", outcome));
        if (item.Activity is not { } activity)
            return;
        if (failure is null)
            activity.SetTag("nursery.outcome", outcome);
        else
        {
            if (failure.ProcessId > 0)
                activity.SetTag("nursery.pid", failure.ProcessId);
            Tracing.Fail(activity, failure);
        }
        Tracing.StopDetached(activity);
    }

    /// <summary>The trace context the child is given for <paramref name="item"/>: only a recorded span's (its children would be dropped otherwise).</summary>
    public static ItemTraceContext? ContextOf(PendingItem item) =>
        item.Activity is { Recorded: true } activity ? new ItemTraceContext(item.Id, activity.TraceId, activity.SpanId, activity.ActivityTraceFlags) : null;

    /// <summary>A child was spawned.</summary>
    public void ChildSpawned() => instruments.LiveChildren.Add(1, _stage);

    /// <summary>A child that was spawned has been reaped.</summary>
    public void ChildReaped() => instruments.LiveChildren.Add(-1, _stage);

    /// <summary>A child's start ended, ready or not, <paramref name="elapsed"/> after its spawn began.</summary>
    public void ChildStarted(TimeSpan elapsed, bool ready) =>
        instruments.ChildStart.Record(elapsed.TotalSeconds, _stage, new KeyValuePair<string, object?>("outcome", ready ? "Ready" : "StartFailed"));
}
