namespace Nursery.Dataflow.Tests.Properties;

/// <summary>A planned early stop: <see cref="NurseryOptions.Deadline"/> or the caller's token cancelled, after <paramref name="AfterMs"/>.</summary>
public sealed record RunStop(StopKind Kind, int AfterMs)
{
    public static readonly RunStop None = new(StopKind.None, 0);

    public TimeSpan After => TimeSpan.FromMilliseconds(AfterMs);

    /// <summary>The abort cause the stop gives when it ends the run.</summary>
    public AbortCause Cause => Kind == StopKind.Deadline ? AbortCause.Deadline : AbortCause.Caller;

    public override string ToString() => Kind == StopKind.None ? "none" : $"{Kind} after {AfterMs} ms";
}
