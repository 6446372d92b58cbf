using System.Diagnostics;
using Nursery.Supervision;

namespace Nursery.Tests.Supervision;

/// <summary>The restart budget on a clock the test sets: first starts free, restarts within a sliding window, failed starts in a row.</summary>
public sealed class RestartBudgetTests
{
    private static long At(double seconds) => (long)(seconds * Stopwatch.Frequency);

    private static PoolOptions Options(int workers, int maxRestarts, double windowSeconds, int maxFailedInARow = 3) =>
        new() { Workers = workers, RestartIntensity = new RestartIntensity(maxRestarts, TimeSpan.FromSeconds(windowSeconds)), MaxFailedStartsInARow = maxFailedInARow };

    [Fact]
    public void The_first_start_of_every_slot_is_not_a_restart()
    {
        var budget = new RestartBudget(Options(workers: 3, maxRestarts: 0, windowSeconds: 10));

        Assert.Null(budget.TryStart(At(0)));
        Assert.Null(budget.TryStart(At(0)));
        Assert.Null(budget.TryStart(At(0)));
        Assert.NotNull(budget.TryStart(At(0)));
    }

    [Fact]
    public void More_restarts_than_the_intensity_within_its_window_fail_the_pool_naming_the_option()
    {
        var budget = new RestartBudget(Options(workers: 1, maxRestarts: 2, windowSeconds: 10));
        budget.TryStart(At(0));

        Assert.Null(budget.TryStart(At(1)));
        Assert.Null(budget.TryStart(At(2)));
        var why = budget.TryStart(At(3));

        Assert.NotNull(why);
        Assert.Contains("PoolOptions.RestartIntensity", why, StringComparison.Ordinal);
        Assert.Contains("more than 2 times", why, StringComparison.Ordinal);
    }

    [Fact]
    public void Restarts_older_than_the_window_no_longer_count()
    {
        var budget = new RestartBudget(Options(workers: 1, maxRestarts: 2, windowSeconds: 10));
        budget.TryStart(At(0));

        Assert.Null(budget.TryStart(At(1)));
        Assert.Null(budget.TryStart(At(2)));
        Assert.Null(budget.TryStart(At(12.5)));
        Assert.Null(budget.TryStart(At(13)));
        Assert.NotNull(budget.TryStart(At(14)));
    }

    [Fact]
    public void Failed_starts_in_a_row_fail_the_pool_naming_the_option()
    {
        var budget = new RestartBudget(Options(workers: 1, maxRestarts: 100, windowSeconds: 1, maxFailedInARow: 3));

        Assert.Null(budget.StartFailed(cancelled: false));
        Assert.Null(budget.StartFailed(cancelled: false));
        var why = budget.StartFailed(cancelled: false);

        Assert.NotNull(why);
        Assert.Contains("3 starts in a row failed (PoolOptions.MaxFailedStartsInARow is 3)", why, StringComparison.Ordinal);
    }

    [Fact]
    public void A_successful_start_or_a_cancelled_one_does_not_extend_the_run_of_failures()
    {
        var budget = new RestartBudget(Options(workers: 1, maxRestarts: 100, windowSeconds: 1, maxFailedInARow: 2));

        Assert.Null(budget.StartFailed(cancelled: false));
        budget.Started();
        Assert.Null(budget.StartFailed(cancelled: false));
        Assert.Null(budget.StartFailed(cancelled: true));
        Assert.NotNull(budget.StartFailed(cancelled: false));
    }
}
