namespace Nursery.Supervision;

/// <summary>
/// The pool's slots and who takes the next items: the least busy slot, a ready child beating a starting one at equal
/// load. Not thread-safe: the pool calls it under its lock.
/// </summary>
internal sealed class Leases<TWorker>
    where TWorker : class, ILeasable
{
    private readonly LeaseSlot<TWorker>[] _slots;

    public Leases(int slots) => _slots = [.. Enumerable.Range(0, slots).Select(_ => new LeaseSlot<TWorker>())];

    public IReadOnlyList<LeaseSlot<TWorker>> Slots => _slots;

    /// <summary>
    /// The least busy slot, after forgetting children that have ended; when it has a ready child, that child is leased
    /// <paramref name="items"/> items and returned as <paramref name="ready"/>.
    /// </summary>
    public LeaseSlot<TWorker> Pick(int items, out Lease<TWorker>? ready)
    {
        ForgetEnded();
        var slot = LeastBusy();
        ready = slot.Current;
        if (ready is not null)
            ready.InFlight += items;
        return slot;
    }

    /// <summary>
    /// Gives back <paramref name="items"/> items of a lease. A child that has answered <paramref name="recycleAfter"/>
    /// items (0: never) leaves its slot; true when it now holds nothing and is to be disposed (once).
    /// </summary>
    public static bool Release(Lease<TWorker> lease, int items, int recycleAfter)
    {
        lease.InFlight -= items;
        if (recycleAfter > 0 && !lease.Retired && lease.Worker.ItemsCompleted >= recycleAfter)
        {
            lease.Retired = true;
            if (lease.Slot.Current == lease)
                lease.Slot.Current = null;
        }
        var retire = lease.Retired && lease.InFlight == 0 && !lease.Disposed;
        if (retire)
            lease.Disposed = true;
        return retire;
    }

    /// <summary>
    /// Empties the slots whose child has ended but whose watcher has not yet run, so an item re-sent after its child
    /// died goes to a new child instead of bouncing off the dead one.
    /// </summary>
    private void ForgetEnded()
    {
        foreach (var slot in _slots)
        {
            if (slot.Current is { Worker.IsAlive: false })
                slot.Current = null;
        }
    }

    private LeaseSlot<TWorker> LeastBusy()
    {
        var best = _slots[0];
        var bestLoad = int.MaxValue;
        foreach (var slot in _slots)
        {
            // A ready child beats a starting one at equal load; an empty slot costs one start.
            var load = slot.Current is { } lease ? lease.InFlight * 2 : (slot.Waiting * 2) + 1;
            if (load < bestLoad)
            {
                best = slot;
                bestLoad = load;
            }
        }
        return best;
    }
}
