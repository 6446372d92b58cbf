namespace Nursery;

/// <summary>
/// The case of a <see cref="ChildFailure"/>, as <see cref="ChildFailure.Kind"/> gives it: for counts by kind, for
/// <see cref="RetryPolicy.RetryOn"/>, and for records. Each member's name is the text the job log, reports and
/// counters use for it.
/// </summary>
public enum FailureKind
{
    /// <summary>The body threw in the child, or its input or output could not be (de)serialized there (<see cref="ChildFailure.Faulted"/>).</summary>
    Faulted,

    /// <summary>The child never became ready: it could not be started, could not load the body, its initializer threw, or its pool restarted too often (<see cref="ChildFailure.StartFailed"/>).</summary>
    StartFailed,

    /// <summary>The child ended on its own: a non-zero exit, a native crash, or a signal nobody here sent (<see cref="ChildFailure.Crashed"/>).</summary>
    Crashed,

    /// <summary>The kernel's OOM killer ended the child at its memory cgroup's limit (<see cref="ChildFailure.OutOfMemory"/>).</summary>
    OutOfMemory,

    /// <summary>The item's deadline ran out, or the child stopped sending heartbeats; the child was killed (<see cref="ChildFailure.TimedOut"/>).</summary>
    TimedOut,

    /// <summary>The child wrote something that is not the protocol, or a result the parent cannot decode (<see cref="ChildFailure.ProtocolViolation"/>).</summary>
    ProtocolViolation,

    /// <summary>The item never ran, or was stopped, because of an abort, the caller's token, or its worker's end (<see cref="ChildFailure.Cancelled"/>).</summary>
    Cancelled,
}
