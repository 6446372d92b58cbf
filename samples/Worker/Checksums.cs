namespace Nursery.WorkerSample;

/// <summary>The stage's body: runs in the children, so it is a static method of this compiled assembly.</summary>
public static class Checksums
{
    /// <summary>A stand-in for real work: a few milliseconds of arithmetic over the item.</summary>
    public static long Of(int item)
    {
        var sum = (long)item;
        for (var i = 0; i < 200_000; i++)
            sum = ((sum * 31) + i) % 1_000_000_007;
        return sum;
    }
}

/// <summary>The sample's log messages.</summary>
public static partial class SampleLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "checksum of {Count} items: {Total}")]
    public static partial void Checksum(ILogger logger, long count, long total);
}
