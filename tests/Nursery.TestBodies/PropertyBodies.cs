namespace Nursery.TestBodies;

/// <summary>Bodies for isolated properties: each misbehaves from one input on, so that shrinking has a smallest input to find.</summary>
public static class PropertyBodies
{
    public const int CrashFrom = 37;
    public const int ThrowFrom = 20;
    public const int HangFrom = 30;

    /// <summary>Exits with code 3 from <see cref="CrashFrom"/> on.</summary>
    public static int ExitFrom37(int x)
    {
        if (x >= CrashFrom)
            Environment.Exit(3);
        return x;
    }

    /// <summary>Throws from <see cref="ThrowFrom"/> on.</summary>
    public static int ThrowFrom20(int x) => x >= ThrowFrom ? throw new InvalidOperationException($"{x} is too large") : x;

    /// <summary>Sleeps forever from <see cref="HangFrom"/> on.</summary>
    public static int HangFrom30(int x)
    {
        if (x >= HangFrom)
            Thread.Sleep(Timeout.Infinite);
        return x;
    }
}
