namespace Nursery.Supervision;

/// <summary>What the pool's leasing needs to know of a child: whether it still runs and how many items it answered.</summary>
internal interface ILeasable
{
    /// <summary>Whether the child is ready and has not ended.</summary>
    bool IsAlive { get; }

    /// <summary>How many items the child has answered.</summary>
    long ItemsCompleted { get; }
}
