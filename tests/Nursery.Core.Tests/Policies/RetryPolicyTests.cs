using LanguageExt;

namespace Nursery.Tests.Policies;

/// <summary>Which failure kinds a <see cref="RetryPolicy"/> retries, and the kinds it refuses.</summary>
public sealed class RetryPolicyTests
{
    private static ChildFailure Failure(FailureKind kind) =>
        kind switch
        {
            FailureKind.Faulted => new ChildFailure.Faulted(new RemoteError("System.Exception", "boom", "", [])),
            FailureKind.StartFailed => new ChildFailure.StartFailed("no host"),
            FailureKind.Crashed => new ChildFailure.Crashed(1, Option<int>.None, ""),
            FailureKind.OutOfMemory => new ChildFailure.OutOfMemory(1 << 20, Option<long>.None),
            FailureKind.TimedOut => new ChildFailure.TimedOut(TimeoutKind.ItemDeadline, TimeSpan.FromSeconds(1)),
            FailureKind.ProtocolViolation => new ChildFailure.ProtocolViolation("garbage", []),
            FailureKind.Cancelled => new ChildFailure.Cancelled("aborted", Option<ChildFailure>.None, false),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "not a FailureKind"),
        };

    [Fact]
    public void By_default_a_retry_retries_the_failures_of_the_process_and_not_of_the_code()
    {
        var retry = Policy.Retry(3);

        var retried = Enum.GetValues<FailureKind>().Where(kind => retry.ShouldRetry(Failure(kind), attempt: 1));

        Assert.Equal([FailureKind.Crashed, FailureKind.OutOfMemory, FailureKind.TimedOut, FailureKind.ProtocolViolation], retried);
    }

    [Fact]
    public void On_retries_exactly_the_kinds_it_is_given()
    {
        var retry = Policy.Retry(3).On(FailureKind.Faulted, FailureKind.Cancelled);

        var retried = Enum.GetValues<FailureKind>().Where(kind => retry.ShouldRetry(Failure(kind), attempt: 1));

        Assert.Equal([FailureKind.Faulted, FailureKind.Cancelled], retried);
        Assert.Equal([FailureKind.Faulted, FailureKind.Cancelled], retry.RetryOn.Order());
    }

    [Fact]
    public void AlsoOnFaulted_adds_Faulted_to_the_kinds_retried()
    {
        var retry = Policy.Retry(2).On(FailureKind.TimedOut).AlsoOnFaulted();

        Assert.Equal([FailureKind.Faulted, FailureKind.TimedOut], retry.RetryOn.Order());
        Assert.True(retry.ShouldRetry(Failure(FailureKind.Faulted), attempt: 1));
        Assert.False(retry.ShouldRetry(Failure(FailureKind.Faulted), attempt: 2));
    }

    [Fact]
    public void A_value_that_is_no_FailureKind_is_refused_with_the_names_to_use()
    {
        var retry = Policy.Retry(3).On(FailureKind.Crashed, (FailureKind)42);

        var error = Assert.Throws<ArgumentException>(() => retry.Validate());

        Assert.Equal(nameof(RetryPolicy.RetryOn), error.ParamName);
        Assert.Contains("42", error.Message, StringComparison.Ordinal);
        Assert.Contains("Faulted, StartFailed, Crashed, OutOfMemory, TimedOut, ProtocolViolation, Cancelled", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_retry_describes_its_kinds_by_name()
    {
        var text = Policy.Retry(3).ToString();

        Assert.Equal("retry up to 3 attempts on Crashed/OutOfMemory/ProtocolViolation/TimedOut, then fail fast", text);
    }
}
