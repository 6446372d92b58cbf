namespace Nursery;

/// <summary>Retry an item on failures of chosen kinds, with backoff, optionally with more memory after an OOM kill; then fail fast or skip.</summary>
public sealed record RetryPolicy : Policy
{
    internal RetryPolicy(int maxAttempts) => MaxAttempts = maxAttempts;

    /// <summary>Attempts in all, the first included.</summary>
    public int MaxAttempts { get; init; }

    /// <summary>
    /// The failure kinds worth another attempt (compared with <see cref="ChildFailure.Kind"/>); by default the failures
    /// of the process, not of the code: Crashed, OutOfMemory, TimedOut and ProtocolViolation.
    /// </summary>
    public IReadOnlySet<FailureKind> RetryOn { get; init; } =
        new HashSet<FailureKind> { FailureKind.Crashed, FailureKind.OutOfMemory, FailureKind.TimedOut, FailureKind.ProtocolViolation };

    /// <summary>The wait before the first retry; doubled for each further one, up to <see cref="MaxBackoff"/>.</summary>
    public TimeSpan Backoff { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The longest wait between attempts.</summary>
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>After an OutOfMemory, the next attempt runs in a child whose memory limit is multiplied by this (1 keeps it).</summary>
    public double MemoryGrowth { get; init; } = 1.0;

    /// <summary>What to do when the attempts are used up or the failure is not retryable.</summary>
    public Policy Then { get; init; } = FailFast;

    /// <summary>Also retry when the body throws (Faulted), for bodies whose exceptions are transient.</summary>
    public RetryPolicy AlsoOnFaulted() => this with { RetryOn = new HashSet<FailureKind>(RetryOn) { FailureKind.Faulted } };

    /// <summary>Retry only these kinds.</summary>
    public RetryPolicy On(params FailureKind[] kinds)
    {
        ArgumentNullException.ThrowIfNull(kinds);
        return this with { RetryOn = new HashSet<FailureKind>(kinds) };
    }

    /// <summary>Retry with this backoff before the first retry.</summary>
    public RetryPolicy WithBackoff(TimeSpan first) => this with { Backoff = first };

    /// <summary>After an OOM kill, retry with the memory limit multiplied by <paramref name="factor"/>.</summary>
    public RetryPolicy WithMoreMemory(double factor = 2.0) => this with { MemoryGrowth = factor };

    /// <summary>When the attempts are used up, record the failure and go on.</summary>
    public RetryPolicy ThenSkip() => this with { Then = Skip };

    /// <summary>When the attempts are used up, abort the run (the default).</summary>
    public RetryPolicy ThenFailFast() => this with { Then = FailFast };

    /// <summary>Whether a failure on attempt <paramref name="attempt"/> deserves another attempt.</summary>
    public bool ShouldRetry(ChildFailure failure, int attempt)
    {
        ArgumentNullException.ThrowIfNull(failure);
        return attempt < MaxAttempts && RetryOn.Contains(failure.Kind);
    }

    /// <summary>The wait before attempt <paramref name="nextAttempt"/> (2 for the first retry).</summary>
    public TimeSpan BackoffBefore(int nextAttempt)
    {
        var factor = Math.Pow(2, Math.Max(0, nextAttempt - 2));
        var wait = TimeSpan.FromTicks((long)Math.Min(Backoff.Ticks * factor, MaxBackoff.Ticks));
        return wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
    }

    /// <inheritdoc />
    public override Policy Validate()
    {
        if (Backoff < TimeSpan.Zero)
            throw new ArgumentException($"Backoff is {Backoff}; it must be zero or positive.", nameof(Backoff));
        if (MaxBackoff < Backoff)
            throw new ArgumentException($"MaxBackoff ({MaxBackoff}) must be at least Backoff ({Backoff}).", nameof(MaxBackoff));
        if (MemoryGrowth is < 1.0 or > 64.0 || double.IsNaN(MemoryGrowth))
            throw new ArgumentException($"MemoryGrowth is {MemoryGrowth}; it must be between 1 (same limit) and 64.", nameof(MemoryGrowth));
        if (Then is RetryPolicy)
            throw new ArgumentException("Then must be Policy.FailFast or Policy.Skip; put all attempts in one Retry.", nameof(Then));
        if (RetryOn is null)
            throw new ArgumentException("RetryOn is null; give the failure kinds to retry (an empty set retries none).", nameof(RetryOn));
        var undefined = RetryOn.Where(kind => !Enum.IsDefined(kind)).ToArray();
        if (undefined.Length > 0)
            throw new ArgumentException(
                $"RetryOn holds {string.Join(", ", undefined.Select(kind => ((int)kind).ToString(System.Globalization.CultureInfo.InvariantCulture)))}, which "
                    + $"{(undefined.Length == 1 ? "is not a FailureKind" : "are not FailureKinds")}; use the named members ({string.Join(", ", Enum.GetNames<FailureKind>())}).",
                nameof(RetryOn)
            );
        return this;
    }

    /// <inheritdoc />
    public override string ToString() => $"retry up to {MaxAttempts} attempts on {string.Join("/", RetryOn.Select(kind => kind.ToString()).Order(StringComparer.Ordinal))}, then {Then}";
}
