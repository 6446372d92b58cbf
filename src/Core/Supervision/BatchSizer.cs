using System.Diagnostics;

namespace Nursery.Supervision;

/// <summary>
/// Picks how many items go to a child as one batch, so that a batch takes about <see cref="TargetTime"/>: hundreds of
/// fast items (the per-batch costs are then shared), one at a time for slow items (so a slow item never holds many
/// others behind it while another child is idle). Learns from every batch that completes (a moving average of the
/// time per item, queueing in the child included). Thread-safe.
/// </summary>
internal sealed class BatchSizer
{
    /// <summary>The time a batch should take in a child.</summary>
    public static readonly TimeSpan TargetTime = TimeSpan.FromMilliseconds(2);

    private static readonly long TargetTicks = (long)(TargetTime.TotalSeconds * Stopwatch.Frequency);
    private long _ticksPerItem = -1;

    /// <summary>The next batch's size, between 1 and <paramref name="max"/>; 1 until a batch has completed.</summary>
    public int Next(int max)
    {
        var perItem = Volatile.Read(ref _ticksPerItem);
        if (perItem < 0 || max <= 1)
            return 1;
        return perItem == 0 ? max : (int)Math.Clamp(TargetTicks / perItem, 1, max);
    }

    /// <summary>A batch of <paramref name="count"/> items took <paramref name="elapsedTicks"/> (Stopwatch ticks) from dispatch to completion.</summary>
    public void Observe(int count, long elapsedTicks)
    {
        if (count <= 0)
            return;
        var sample = Math.Max(0, elapsedTicks) / count;
        while (true)
        {
            var old = Volatile.Read(ref _ticksPerItem);
            var updated = old < 0 ? sample : old + ((sample - old) / 4);
            if (Interlocked.CompareExchange(ref _ticksPerItem, updated, old) == old)
                return;
        }
    }
}
