namespace Nursery.Benchmarks;

/// <summary>The bodies the benchmark runs in child processes: as cheap as possible, so what is measured is Nursery.</summary>
internal static class BenchBodies
{
    /// <summary>The line <see cref="SleepThenAnswer"/> writes to stderr once the child is running the item.</summary>
    public const string SleepingMarker = "nursery-bench: the item is sleeping";

    /// <summary>The trivial item: nothing to compute, so items/s is the cost of carrying an item there and back.</summary>
    public static int Identity(int x) => x;

    /// <summary>The streaming row's body: a long passed through.</summary>
    public static long IdentityLong(long x) => x;

    /// <summary>Returns its input: a 10 KiB string crosses the pipe twice.</summary>
    public static string Echo(string text) => text;

    /// <summary>
    /// 0: returns the wall-clock time (UTC ticks) it started at. Otherwise says on stderr that it runs, naming its pid,
    /// then sleeps that many milliseconds; the replacement rows SIGKILL the child meanwhile.
    /// </summary>
    public static async Task<long> SleepOrStamp(int milliseconds)
    {
        if (milliseconds == 0)
            return DateTime.UtcNow.Ticks;
        await Console.Error.WriteLineAsync(SleepingMarker + " in pid " + Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await Task.Delay(milliseconds);
        return 0;
    }

    /// <summary>Says on stderr that it runs, then sleeps; the kill benchmark SIGKILLs the child meanwhile.</summary>
    public static async Task<int> SleepThenAnswer(int milliseconds)
    {
        await Console.Error.WriteLineAsync(SleepingMarker);
        await Task.Delay(milliseconds);
        return milliseconds;
    }
}

/// <summary>Bodies for the Dataflow rows (7–12).</summary>
internal static class FlowBodies
{
    /// <summary>The item that fails in the fail-fast row.</summary>
    public const int FailingItem = 200;

    /// <summary>Identity, except <see cref="FailingItem"/>, which throws with the wall-clock time (UTC ticks) it threw at.</summary>
    public static int FailAt(int x) =>
        x == FailingItem ? throw new InvalidOperationException("T=" + DateTime.UtcNow.Ticks.ToString(System.Globalization.CultureInfo.InvariantCulture) + "=T") : x;
}
