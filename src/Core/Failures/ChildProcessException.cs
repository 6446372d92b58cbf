namespace Nursery;

/// <summary>A <see cref="ChildFailure"/> as an exception, for code that prefers to throw. The message is the failure's full report, with the child's stack trace.</summary>
public sealed class ChildProcessException : Exception
{
    /// <summary>Wraps a failure.</summary>
    public ChildProcessException(ChildFailure failure)
        : base((failure ?? throw new ArgumentNullException(nameof(failure))).ToString()) => Failure = failure;

    /// <summary>The failure this exception carries.</summary>
    public ChildFailure Failure { get; }
}
