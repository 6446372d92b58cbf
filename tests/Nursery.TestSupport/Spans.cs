using System.Diagnostics;

namespace Nursery.Tests.Support;

/// <summary>Records the spans that end on the "Nursery" source and a test's own source, for one test.</summary>
public static class Spans
{
    /// <summary>Listens until disposed; every span that ends is added to <paramref name="stopped"/> (lock it to read).</summary>
    public static ActivityListener Listen(List<Activity> stopped, string testSourceName)
    {
        var listener = new ActivityListener
        {
            // By name: a listener asked about a source whose creation it triggers would miss it.
            ShouldListenTo = source => source.Name == NurseryTelemetry.ActivitySourceName || source.Name == testSourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                lock (stopped)
                    stopped.Add(activity);
            },
        };
        ActivitySource.AddActivityListener(listener);
        return listener;
    }
}
