using System.Diagnostics;

namespace Nursery.Supervision;

/// <summary>
/// The worker's deadlines: the start timeout, the heartbeat silence and the item deadline. Decisions only: the
/// caller passes the clock's readings (<see cref="Stopwatch"/> timestamps) and kills the child when one is due.
/// </summary>
internal static class Watchdog
{
    private static readonly TimeSpan LongestPeriod = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan ShortestPeriod = TimeSpan.FromMilliseconds(5);

    /// <summary>How often to check: an eighth of the shortest deadline, between 5 and 250 ms.</summary>
    public static TimeSpan Period(WorkerOptions options)
    {
        var shortest = LongestPeriod;
        foreach (var limit in (ReadOnlySpan<TimeSpan>)[options.ItemTimeout, options.HeartbeatTimeout])
        {
            if (limit != Timeout.InfiniteTimeSpan && limit / 8 < shortest)
                shortest = limit / 8;
        }
        return shortest < ShortestPeriod ? ShortestPeriod : shortest;
    }

    /// <summary>
    /// The deadline that has passed at <paramref name="now"/>, if any: the start timeout until the child is ready,
    /// then (once it said hello) its silence, then the running item's deadline.
    /// </summary>
    /// <param name="options">The deadlines.</param>
    /// <param name="now">The clock's reading now.</param>
    /// <param name="started">When the worker started.</param>
    /// <param name="ready">Whether the child reported ready.</param>
    /// <param name="helloSeen">Whether the child said hello (heartbeats are watched from then on).</param>
    /// <param name="lastHeard">When the child last wrote anything.</param>
    /// <param name="runningSince">When the item now running started; null when the child holds no item.</param>
    public static ChildFailure? Expired(WorkerOptions options, long now, long started, bool ready, bool helloSeen, long lastHeard, long? runningSince)
    {
        if (!ready && Stopwatch.GetElapsedTime(started, now) > options.StartTimeout)
            return new ChildFailure.StartFailed($"the child was not ready within {Units.Duration(options.StartTimeout)} (WorkerOptions.StartTimeout); it was killed");
        if (helloSeen && options.HeartbeatTimeout != Timeout.InfiniteTimeSpan && Stopwatch.GetElapsedTime(lastHeard, now) > options.HeartbeatTimeout)
            return new ChildFailure.TimedOut(TimeoutKind.Heartbeat, options.HeartbeatTimeout);
        if (options.ItemTimeout != Timeout.InfiniteTimeSpan && runningSince is { } since && Stopwatch.GetElapsedTime(since, now) > options.ItemTimeout)
            return new ChildFailure.TimedOut(TimeoutKind.ItemDeadline, options.ItemTimeout);
        return null;
    }

    /// <summary>Whether <see cref="Expired"/> needs the running item's start (so the caller reads it only then).</summary>
    public static bool WatchesItems(WorkerOptions options) => options.ItemTimeout != Timeout.InfiniteTimeSpan;
}
