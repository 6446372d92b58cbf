using System.Globalization;

namespace Nursery.TestBodies;

/// <summary>Bodies for pipeline scenarios: realistic ETL steps, and items that announce they are busy so a test can kill their child.</summary>
public static class PipelineBodies
{
    public static OrderRecord Map(string line)
    {
        var parts = line.Split(';');
        if (parts[1] == "poison")
            throw new FormatException($"record {parts[0]} has a poisoned amount"); // MapThrowLine
        return new OrderRecord(int.Parse(parts[0], CultureInfo.InvariantCulture), decimal.Parse(parts[1], CultureInfo.InvariantCulture));
    }

    public static Row Convert(OrderRecord record) => new(record.Id, record.Amount * 1.2m, $"row-{record.Id}");

    /// <summary>Item 7 writes "&lt;pid&gt;" to a file in $MARKER_DIR and takes 3 s, so the test can kill its child mid-item.</summary>
    public static int BusyOnSeven(int x)
    {
        if (x == 7)
        {
            var directory = Environment.GetEnvironmentVariable("MARKER_DIR")!;
            File.WriteAllText(Path.Combine(directory, $"busy-{Environment.ProcessId}"), Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
            Thread.Sleep(3000);
        }
        return x * 10;
    }

    /// <summary>
    /// Items ending in 37 (37, 137, …) kill their child (exit 3) the first time they run, marked by a file in
    /// $MARKER_DIR; every other run, and every other item, returns x * 10.
    /// </summary>
    public static int CrashOnceOn37s(int x)
    {
        if (x % 100 == 37)
        {
            var marker = Path.Combine(Environment.GetEnvironmentVariable("MARKER_DIR")!, $"crashed-{x}");
            if (!File.Exists(marker))
            {
                File.WriteAllText(marker, "");
                Environment.Exit(3);
            }
        }
        return x * 10;
    }

    public static int HangOnThree(int x)
    {
        if (x == 3)
            Thread.Sleep(Timeout.Infinite);
        return x;
    }

    public static void InitializerThatAlwaysFails(string why) => throw new InvalidOperationException($"cannot initialise: {why}");

    public static long Increment(long x) => x + 1;
}

public sealed record OrderRecord(int Id, decimal Amount);

public sealed record Row(int Id, decimal Total, string Label);
