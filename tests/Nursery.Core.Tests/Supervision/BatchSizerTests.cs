using System.Diagnostics;
using Nursery.Supervision;

namespace Nursery.Tests.Supervision;

/// <summary>The batch sizer's arithmetic: single items until it has learned, hundreds for fast items, one for slow ones.</summary>
public sealed class BatchSizerTests
{
    private static long Ticks(TimeSpan time) => (long)(time.TotalSeconds * Stopwatch.Frequency);

    [Fact]
    public void Sends_single_items_until_a_batch_has_completed()
    {
        var sizer = new BatchSizer();
        Assert.Equal(1, sizer.Next(256));
    }

    [Fact]
    public void Fast_items_fill_batches_up_to_the_limit()
    {
        var sizer = new BatchSizer();
        sizer.Observe(100, Ticks(TimeSpan.FromMicroseconds(200)));
        Assert.Equal(256, sizer.Next(256));
        Assert.Equal(7, sizer.Next(7));
    }

    [Fact]
    public void Slow_items_go_one_at_a_time()
    {
        var sizer = new BatchSizer();
        sizer.Observe(1, Ticks(TimeSpan.FromSeconds(1)));
        Assert.Equal(1, sizer.Next(256));
    }

    [Fact]
    public void A_batch_takes_about_the_target_time()
    {
        var sizer = new BatchSizer();
        sizer.Observe(10, Ticks(TimeSpan.FromMilliseconds(1)));
        // 0.1 ms per item → about 2 ms / 0.1 ms = 20 items.
        Assert.InRange(sizer.Next(256), 19, 21);
    }

    [Fact]
    public void The_average_moves_towards_new_observations()
    {
        var sizer = new BatchSizer();
        sizer.Observe(1000, Ticks(TimeSpan.FromMilliseconds(1)));
        Assert.Equal(256, sizer.Next(256));
        for (var i = 0; i < 30; i++)
            sizer.Observe(1, Ticks(TimeSpan.FromMilliseconds(500)));
        Assert.Equal(1, sizer.Next(256));
        for (var i = 0; i < 60; i++)
            sizer.Observe(100, Ticks(TimeSpan.FromMicroseconds(100)));
        Assert.Equal(256, sizer.Next(256));
    }

    [Fact]
    public void A_limit_of_one_is_always_one()
    {
        var sizer = new BatchSizer();
        sizer.Observe(100, 1);
        Assert.Equal(1, sizer.Next(1));
    }
}
