namespace Nursery.Supervision;

/// <summary>A started child in one of the pool's slots, with the items it was leased for. Changed under the pool's lock.</summary>
internal sealed class Lease<TWorker>(TWorker worker, LeaseSlot<TWorker> slot)
    where TWorker : class, ILeasable
{
    public TWorker Worker { get; } = worker;

    public LeaseSlot<TWorker> Slot { get; } = slot;

    /// <summary>How many items are leased to the child and not yet released.</summary>
    public int InFlight { get; set; }

    /// <summary>The child answered its share (<see cref="PoolOptions.RecycleAfter"/>): it takes no more items.</summary>
    public bool Retired { get; set; }

    /// <summary>The child was the pool's warm spare; its successor is to be started once its first items are done.</summary>
    public bool RefillSpare { get; set; }

    /// <summary>The retired child's disposal has been started.</summary>
    public bool Disposed { get; set; }
}
