namespace Nursery.TestBodies;

/// <summary>Bodies for the warm-spare tests: a slow initializer, and a body that says whether it ran after it.</summary>
public static class SpareBodies
{
    private static volatile bool _initialized;

    /// <summary>Takes <paramref name="milliseconds"/> before the child is ready.</summary>
    public static void SlowInitializer(int milliseconds)
    {
        Thread.Sleep(milliseconds);
        _initialized = true;
    }

    /// <summary>-1 if the initializer has not run in this child; else sleeps <paramref name="milliseconds"/> and returns the pid.</summary>
    public static int PidAfterSleep(int milliseconds)
    {
        if (!_initialized)
            return -1;
        if (milliseconds > 0)
            Thread.Sleep(milliseconds);
        return Environment.ProcessId;
    }
}
