namespace Nursery.Dataflow.Tests.Plumbing.Runs;

/// <summary>
/// An item that no block ends (a defect: here simulated by counting one input more than the source gave) must not
/// leave the run reported complete with counts that do not add up: it is counted Cancelled, naming the defect, and
/// the run is not Completed. In-process only (a sink as the entry), so no child is started.
/// </summary>
public sealed class LostItemTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task An_item_no_block_ends_is_counted_cancelled_and_the_run_is_not_completed()
    {
        await using var scope = new NurseryScope(new NurseryOptions { DrainTimeout = TimeSpan.FromMilliseconds(200) });
        var seen = 0;
        var sink = scope.Sink<int>(value =>
        {
            // Counted as read, but never given to any block: what a lost item looks like in the books.
            if (Interlocked.Increment(ref seen) == 3)
                scope.Ledger.Input(1);
        });

        var result = await scope.RunAsync(Enumerable.Range(0, 10), sink).WaitAsync(Bound);

        Assert.Equal(10, seen);
        Assert.False(result.Completed);
        Assert.Equal(AbortCause.BlockFaulted, result.AbortCause);
        Assert.Equal(11, result.Inputs);
        Assert.Equal(10, result.Succeeded);
        Assert.Equal(result.Inputs, result.Succeeded + result.Failed);
        var lost = Assert.IsType<ChildFailure.Cancelled>(Assert.Single(result.Failures));
        Assert.Contains("never reached its end", lost.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_run_whose_items_all_end_is_completed_without_waiting()
    {
        await using var scope = new NurseryScope(new NurseryOptions { DrainTimeout = TimeSpan.FromMinutes(5) });
        var sink = scope.Sink<int>(_ => { });

        var result = await scope.RunAsync(Enumerable.Range(0, 1000), sink).WaitAsync(Bound);

        Assert.True(result.Completed, result.ToString());
        Assert.Equal((1000L, 1000L, 0L), (result.Inputs, result.Succeeded, result.Failed));
    }
}
