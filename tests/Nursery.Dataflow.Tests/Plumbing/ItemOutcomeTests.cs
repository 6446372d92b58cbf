namespace Nursery.Dataflow.Tests.Plumbing;

/// <summary>An attempt's outcome: Succeeded or a failure of one kind, one instance each, its text read back exactly.</summary>
public sealed class ItemOutcomeTests
{
    [Fact]
    public void There_is_one_outcome_for_success_and_one_for_each_failure_kind()
    {
        Assert.Equal(1 + Enum.GetValues<FailureKind>().Length, ItemOutcome.All.Count);
        Assert.True(ItemOutcome.Succeeded.IsSuccess);
        Assert.Null(ItemOutcome.Succeeded.Kind);
        Assert.All(Enum.GetValues<FailureKind>(), kind => Assert.Equal(kind, ItemOutcome.Failed(kind).Kind));
        Assert.All(Enum.GetValues<FailureKind>(), kind => Assert.Same(ItemOutcome.Failed(kind), ItemOutcome.Failed(kind)));
    }

    [Fact]
    public void An_outcomes_text_is_Succeeded_or_the_kinds_name_and_parses_back_to_the_same_outcome()
    {
        Assert.Equal(["Succeeded", .. Enum.GetNames<FailureKind>()], ItemOutcome.All.Select(outcome => outcome.ToString()));
        Assert.All(ItemOutcome.All, outcome => Assert.Same(outcome, ItemOutcome.Parse(outcome.ToString())));
    }

    [Theory]
    [InlineData("")]
    [InlineData("succeeded")]
    [InlineData("Started")]
    [InlineData("2")]
    [InlineData("Crashed ")]
    public void Text_that_is_no_outcome_does_not_parse(string text)
    {
        Assert.False(ItemOutcome.TryParse(text, out _));
        var error = Assert.Throws<FormatException>(() => ItemOutcome.Parse(text));
        Assert.Contains("Succeeded", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_value_that_is_no_FailureKind_has_no_outcome()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ItemOutcome.Failed((FailureKind)7));
    }
}
