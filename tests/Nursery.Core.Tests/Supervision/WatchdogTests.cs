using System.Diagnostics;
using Nursery.Supervision;

namespace Nursery.Tests.Supervision;

/// <summary>The watchdog's decisions, on a clock the test sets: no real waiting.</summary>
public sealed class WatchdogTests
{
    private const long Start = 1_000_000;
    private static readonly WorkerOptions Options = new() { StartTimeout = TimeSpan.FromSeconds(10), HeartbeatTimeout = TimeSpan.FromSeconds(5), ItemTimeout = TimeSpan.FromSeconds(2) };

    private static long At(double seconds) => Start + (long)(seconds * Stopwatch.Frequency);

    [Fact]
    public void A_child_not_ready_past_the_start_timeout_is_a_start_failure()
    {
        var expired = Watchdog.Expired(Options, At(10.5), Start, ready: false, helloSeen: false, lastHeard: Start, runningSince: null);

        var failure = Assert.IsType<ChildFailure.StartFailed>(expired);
        Assert.Contains("WorkerOptions.StartTimeout", failure.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_child_starting_within_its_start_timeout_is_left_alone()
    {
        Assert.Null(Watchdog.Expired(Options, At(9.5), Start, ready: false, helloSeen: false, lastHeard: Start, runningSince: null));
    }

    [Fact]
    public void A_child_silent_past_the_heartbeat_timeout_after_hello_times_out()
    {
        var expired = Watchdog.Expired(Options, At(6), Start, ready: true, helloSeen: true, lastHeard: At(0.5), runningSince: null);

        Assert.Equal(new ChildFailure.TimedOut(TimeoutKind.Heartbeat, TimeSpan.FromSeconds(5)), expired);
    }

    [Fact]
    public void Silence_before_hello_is_not_watched_as_a_heartbeat()
    {
        Assert.Null(Watchdog.Expired(Options, At(6), Start, ready: false, helloSeen: false, lastHeard: Start, runningSince: null));
    }

    [Fact]
    public void The_start_timeout_is_checked_before_the_heartbeat()
    {
        var expired = Watchdog.Expired(Options, At(11), Start, ready: false, helloSeen: true, lastHeard: Start, runningSince: null);

        Assert.IsType<ChildFailure.StartFailed>(expired);
    }

    [Fact]
    public void An_item_running_past_its_deadline_times_out()
    {
        var expired = Watchdog.Expired(Options, At(4.5), Start, ready: true, helloSeen: true, lastHeard: At(4), runningSince: At(2));

        Assert.Equal(new ChildFailure.TimedOut(TimeoutKind.ItemDeadline, TimeSpan.FromSeconds(2)), expired);
    }

    [Fact]
    public void An_item_within_its_deadline_or_no_item_at_all_is_left_alone()
    {
        Assert.Null(Watchdog.Expired(Options, At(3.5), Start, ready: true, helloSeen: true, lastHeard: At(3), runningSince: At(2)));
        Assert.Null(Watchdog.Expired(Options, At(30), Start, ready: true, helloSeen: true, lastHeard: At(29), runningSince: null));
    }

    [Fact]
    public void Infinite_limits_never_expire()
    {
        var options = Options with { HeartbeatTimeout = Timeout.InfiniteTimeSpan, ItemTimeout = Timeout.InfiniteTimeSpan };

        Assert.Null(Watchdog.Expired(options, At(1000), Start, ready: true, helloSeen: true, lastHeard: Start, runningSince: Start));
        Assert.False(Watchdog.WatchesItems(options));
    }

    [Theory]
    [InlineData(-1, -1, 250)]
    [InlineData(2000, -1, 250)]
    [InlineData(800, -1, 100)]
    [InlineData(-1, 400, 50)]
    [InlineData(10, -1, 5)]
    public void The_watchdog_ticks_at_an_eighth_of_the_shortest_limit_between_5_and_250_ms(int itemMs, int heartbeatMs, int periodMs)
    {
        var options = Options with
        {
            ItemTimeout = itemMs < 0 ? Timeout.InfiniteTimeSpan : TimeSpan.FromMilliseconds(itemMs),
            HeartbeatTimeout = heartbeatMs < 0 ? Timeout.InfiniteTimeSpan : TimeSpan.FromMilliseconds(heartbeatMs),
        };

        Assert.Equal(TimeSpan.FromMilliseconds(periodMs), Watchdog.Period(options));
    }
}
