using System.Diagnostics;
using System.Globalization;

namespace Nursery.Benchmarks;

/// <summary>
/// What one measurement cost this process and given children: CPU time, to show which side limits a throughput
/// figure, and write(2) calls, to show how many items travelled per frame. Children's CPU comes from utime + stime in
/// /proc/pid/stat (clock ticks of 1/100 s), so it is only meaningful over runs of a second or more.
/// </summary>
internal static class ProcessMeter
{
    private const double TicksPerSecond = 100; // USER_HZ, which Linux fixes at 100 for /proc

    /// <summary>Runs <paramref name="measure"/> and returns what it cost this process and <paramref name="children"/> meanwhile.</summary>
    public static async Task<Usage> MeterAsync(Func<Task<TimeSpan>> measure, params int[] children)
    {
        var parentCpu = ParentSeconds();
        var childCpu = children.Sum(ChildSeconds);
        var parentWrites = Writes("self");
        var childWrites = children.Sum(pid => Writes(pid.ToString(CultureInfo.InvariantCulture)));
        var collections = Collections();
        var elapsed = await measure();
        var collectionsAfter = Collections();
        return new Usage(
            elapsed,
            ParentSeconds() - parentCpu,
            children.Sum(ChildSeconds) - childCpu,
            Writes("self") - parentWrites,
            children.Sum(pid => Writes(pid.ToString(CultureInfo.InvariantCulture))) - childWrites,
            [.. collectionsAfter.Zip(collections, (after, before) => after - before)]
        );
    }

    private static int[] Collections() => [GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2)];

    internal static double ParentSeconds()
    {
        using var self = Process.GetCurrentProcess();
        return self.TotalProcessorTime.TotalSeconds;
    }

    internal static double ChildSeconds(int pid)
    {
        try
        {
            var stat = File.ReadAllText(string.Create(CultureInfo.InvariantCulture, $"/proc/{pid}/stat"));
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
            return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / TicksPerSecond;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return double.NaN;
        }
    }

    /// <summary>The number of write system calls the process has made (syscw in /proc/pid/io), or NaN.</summary>
    private static double Writes(string pid)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/io").FirstOrDefault(text => text.StartsWith("syscw:", StringComparison.Ordinal));
            return line is null ? double.NaN : double.Parse(line["syscw:".Length..].Trim(), CultureInfo.InvariantCulture);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or FormatException)
        {
            return double.NaN;
        }
    }
}

/// <summary>One measurement's wall time, CPU seconds and write(2) calls in this process (the parent) and in the children, and this process's garbage collections by generation.</summary>
internal sealed record Usage(TimeSpan Elapsed, double ParentSeconds, double ChildSeconds, double ParentWrites, double ChildWrites, IReadOnlyList<int> ParentCollections);
