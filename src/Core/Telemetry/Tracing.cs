using System.Diagnostics;

namespace Nursery.Telemetry;

/// <summary>The Nursery activity source, and stopping a span without touching the stopping thread's current activity.</summary>
internal static class Tracing
{
    public static readonly ActivitySource Source = new(NurseryTelemetry.ActivitySourceName, "1.0");

    /// <summary>
    /// Starts a span under <paramref name="parent"/> (the caller's current one when null) and leaves the caller's
    /// current activity as it was: spans started for many items at once, or on a reader thread, must not nest in one another.
    /// </summary>
    public static Activity? StartDetached(string name, ActivityKind kind, ActivityContext parent = default, IEnumerable<KeyValuePair<string, object?>>? tags = null, DateTimeOffset startTime = default)
    {
        var current = Activity.Current;
        var activity = Source.StartActivity(name, kind, parent == default && current is not null ? current.Context : parent, tags, startTime: startTime);
        Activity.Current = current;
        return activity;
    }

    /// <summary>Stops <paramref name="activity"/> from any thread; <see cref="Activity.Stop"/> would make its parent the thread's current activity.</summary>
    public static void StopDetached(Activity activity)
    {
        var current = Activity.Current;
        activity.Stop();
        Activity.Current = current;
    }

    /// <summary>Marks a span with a failure's kind and summary.</summary>
    public static void Fail(Activity activity, ChildFailure failure)
    {
        activity.SetTag("nursery.outcome", failure.Kind.ToString());
        activity.SetStatus(ActivityStatusCode.Error, $"{failure.Kind}: {failure.Summary}");
    }
}
