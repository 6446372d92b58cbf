using System.Diagnostics;

namespace Nursery.TestBodies;

/// <summary>Bodies that record spans of their own, as a user's body does, through an activity source of their own.</summary>
public static class TracedBodies
{
    public const string SourceName = "Nursery.TestBodies";
    private static readonly ActivitySource Source = new(SourceName);

    /// <summary>Records "body.work" with a nested "body.inner" and returns x * 2; item 4 throws inside both.</summary>
    public static int Traced(int x)
    {
        using var work = Source.StartActivity("body.work");
        work?.SetTag("body.item", x);
        using (var inner = Source.StartActivity("body.inner"))
        {
            inner?.SetTag("body.pid", Environment.ProcessId);
            if (x == 4)
            {
                work?.SetStatus(ActivityStatusCode.Error, "four is refused");
                throw new InvalidOperationException("four is refused");
            }
        }
        return x * 2;
    }

    /// <summary>Takes 200 ms and returns x: a run of many of these is still going when a test stops its host.</summary>
    public static int Slow(int x)
    {
        Thread.Sleep(200);
        return x;
    }
}
