namespace Nursery;

/// <summary>Which time limit ran out in a <see cref="ChildFailure.TimedOut"/>.</summary>
public enum TimeoutKind
{
    /// <summary>The item's own deadline (the stage's item timeout).</summary>
    ItemDeadline,

    /// <summary>No heartbeat (or any frame) from the child within the heartbeat timeout: stopped or deadlocked.</summary>
    Heartbeat,
}
