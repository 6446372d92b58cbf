using LanguageExt;

namespace Nursery.Tests.Failures;

/// <summary>Each case of <see cref="ChildFailure"/> names itself with one <see cref="FailureKind"/>, whose name is the case's text.</summary>
public sealed class FailureKindTests
{
    private static readonly RemoteError Boom = new("System.InvalidOperationException", "bad", "", []);

    /// <summary>One failure of each case and the kind it must report.</summary>
    private static readonly (ChildFailure Failure, FailureKind Kind)[] Table =
    [
        (new ChildFailure.Faulted(Boom), FailureKind.Faulted),
        (new ChildFailure.StartFailed("no host"), FailureKind.StartFailed),
        (new ChildFailure.Crashed(139, 11, ""), FailureKind.Crashed),
        (new ChildFailure.OutOfMemory(1 << 20, Option<long>.None), FailureKind.OutOfMemory),
        (new ChildFailure.TimedOut(TimeoutKind.Heartbeat, TimeSpan.FromSeconds(5)), FailureKind.TimedOut),
        (new ChildFailure.ProtocolViolation("garbage", [0xFF]), FailureKind.ProtocolViolation),
        (new ChildFailure.Cancelled("aborted", Option<ChildFailure>.None, ItemStarted: false), FailureKind.Cancelled),
    ];

    public static TheoryData<string> Cases => [.. Table.Select(row => row.Failure.GetType().Name)];

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_failure_reports_the_kind_of_its_case(string name)
    {
        var (failure, kind) = Table.Single(row => row.Failure.GetType().Name == name);

        Assert.Equal(kind, failure.Kind);
        Assert.Equal(name, failure.Kind.ToString());
        Assert.StartsWith($"{name}: ", failure.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Every_kind_belongs_to_exactly_one_case()
    {
        var kinds = Table.Select(row => row.Failure.Kind).ToList();

        Assert.Equal(Enum.GetValues<FailureKind>().Order(), kinds.Order());
        Assert.Equal(kinds.Count, kinds.Distinct().Count());
    }

    [Fact]
    public void A_cancellation_names_the_kind_of_its_cause_as_text()
    {
        var cancelled = new ChildFailure.Cancelled("aborted", new ChildFailure.Crashed(1, Option<int>.None, "") { Key = "7", Stage = "parse" }, ItemStarted: false);

        Assert.Contains("because of Crashed of item 7 in stage parse", cancelled.Summary, StringComparison.Ordinal);
    }
}
