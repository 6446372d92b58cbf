namespace Nursery.Dataflow.Tests.Plumbing.Accounting;

/// <summary>The accounting invariant in-process (no child involved): every input ends once, and the books drain when nothing is left.</summary>
public sealed class ItemAccountsTests
{
    private static ChildFailure Crashed(string key) => new ChildFailure.Crashed(137, 9, "") { Stage = "stage", Key = key };

    private static ChildFailure Cancelled(string key) => new ChildFailure.Cancelled("the run was aborted", LanguageExt.Option<ChildFailure>.None, false) { Stage = "stage", Key = key };

    [Fact]
    public void Every_input_ends_once_as_a_success_or_a_failure_of_one_kind()
    {
        var accounts = new ItemAccounts(maxFailures: 100);
        accounts.Input(5);

        accounts.Succeed(2);
        accounts.Fail(Crashed("2"));
        accounts.Fail(Cancelled("3"));

        var totals = accounts.Snapshot();
        Assert.Equal((5L, 2L, 2L), (totals.Inputs, totals.Succeeded, totals.Failed));
        Assert.Equal(1, accounts.InFlight);
        Assert.Equal(ItemAccounts.Kinds, totals.ByKind.Keys);
        Assert.Equal(totals.Failed, totals.ByKind.Values.Sum());
        Assert.Equal((1L, 1L), (totals.ByKind[FailureKind.Crashed], totals.ByKind[FailureKind.Cancelled]));
    }

    [Fact]
    public void The_books_drain_only_once_the_source_is_done_and_the_last_input_has_ended()
    {
        var accounts = new ItemAccounts(maxFailures: 100);
        accounts.Input(2);
        accounts.Succeed(1);
        accounts.Fail(Crashed("1"));
        Assert.False(accounts.Drained.IsCompleted, "drained before the source was done");

        accounts.Input(1);
        accounts.SourceDone();
        Assert.False(accounts.Drained.IsCompleted, "drained with an input in flight");

        accounts.Succeed(1);
        Assert.True(accounts.Drained.IsCompleted);
        Assert.Equal(0, accounts.InFlight);
    }

    [Fact]
    public void An_empty_source_drains_at_once()
    {
        var accounts = new ItemAccounts(maxFailures: 100);

        accounts.SourceDone();

        Assert.True(accounts.Drained.IsCompleted);
    }

    [Fact]
    public void Closing_ends_each_item_in_flight_once_and_no_later_end_is_counted()
    {
        var accounts = new ItemAccounts(maxFailures: 100);
        accounts.Input(5);
        accounts.Succeed(1);
        accounts.Fail(Crashed("1"));
        accounts.SourceDone();

        var left = accounts.Close();
        for (var i = 0; i < left; i++)
            accounts.EndLeft(Cancelled("(unknown)"));
        // A block completed by force goes on with what it held: its ends come after the close.
        accounts.Succeed(2);
        accounts.Fail(Crashed("4"));

        Assert.Equal(3, left);
        Assert.Equal(0, accounts.Close());
        Assert.True(accounts.Drained.IsCompleted);
        var totals = accounts.Snapshot();
        Assert.Equal((5L, 1L, 4L), (totals.Inputs, totals.Succeeded, totals.Failed));
        Assert.Equal((1L, 3L), (totals.ByKind[FailureKind.Crashed], totals.ByKind[FailureKind.Cancelled]));
    }

    [Fact]
    public void The_first_failure_is_the_first_that_is_not_a_cancellation()
    {
        var accounts = new ItemAccounts(maxFailures: 100);
        accounts.Input(3);

        accounts.Fail(Cancelled("0"));
        Assert.True(accounts.FirstFailure.IsNone);
        Assert.Equal("0", accounts.Snapshot().First?.Key);
        accounts.Fail(Crashed("1"));
        accounts.Fail(Crashed("2"));

        Assert.Equal("1", accounts.FirstFailure.Map(failure => failure.Key).IfNone(""));
        Assert.Equal("1", accounts.Snapshot().First?.Key);
    }

    [Fact]
    public void Failures_are_kept_up_to_the_cap_in_order_and_every_one_is_counted()
    {
        var accounts = new ItemAccounts(maxFailures: 2);
        accounts.Input(3);

        accounts.Fail(Crashed("0"));
        accounts.Fail(Crashed("1"));
        accounts.Fail(Crashed("2"));

        var totals = accounts.Snapshot(withFailures: true);
        Assert.Equal(["0", "1"], totals.Failures.Select(failure => failure.Key));
        Assert.Equal(3, totals.Failed);
        Assert.Empty(accounts.Snapshot().Failures);
    }

    [Fact]
    public void A_resumed_item_is_counted_apart_from_the_inputs()
    {
        var accounts = new ItemAccounts(maxFailures: 100);
        accounts.Resume();
        accounts.Resume();
        accounts.SourceDone();

        var totals = accounts.Snapshot();

        Assert.Equal((0L, 2L), (totals.Inputs, totals.Resumed));
        Assert.True(accounts.Drained.IsCompleted);
    }
}
