namespace Nursery;

/// <summary>
/// What a stage does with an item whose child failed: abort the whole run (<see cref="FailFast"/>), record it and go on
/// (<see cref="Skip"/>), or try again (<see cref="Retry"/>) and then do one of those. Immutable.
/// </summary>
public abstract record Policy
{
    private protected Policy() { }

    /// <summary>The first failure aborts the run: sources stop, running children are killed, every other item ends Cancelled naming it.</summary>
    public static Policy FailFast { get; } = new FailFastPolicy();

    /// <summary>The failure is recorded and flows on as a Left; the run goes on.</summary>
    public static Policy Skip { get; } = new SkipPolicy();

    /// <summary>
    /// Tries an item up to <paramref name="maxAttempts"/> times in all (so 3 means two retries) when it fails with one of
    /// the retryable kinds (by default Crashed, OutOfMemory, TimedOut and ProtocolViolation: failures of the process,
    /// not of the code), then fails fast unless followed by <see cref="RetryPolicy.ThenSkip"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxAttempts"/> is below 1.</exception>
    public static RetryPolicy Retry(int maxAttempts)
    {
        if (maxAttempts < 1)
            throw new ArgumentOutOfRangeException(nameof(maxAttempts), maxAttempts, "maxAttempts counts every attempt, the first included; it must be at least 1.");
        return new RetryPolicy(maxAttempts);
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting out of range.</summary>
    public virtual Policy Validate() => this;

    private sealed record FailFastPolicy : Policy
    {
        public override string ToString() => "fail fast";
    }

    private sealed record SkipPolicy : Policy
    {
        public override string ToString() => "skip";
    }
}
