namespace Nursery.ChildHost;

/// <summary>
/// The parent's requests to stop items (Stop frames), from the receiver thread to the serving thread: the item
/// running gets its cancellation token cancelled, an item not yet started is not run. Each item gets a token source of
/// its own, never reused, so a late request cannot reach the item after it.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "A source has no timer; it is dropped, not disposed, after its item, since a late Stop may still cancel it.")]
internal sealed class ItemStops
{
    private readonly Lock _gate = new();
    private readonly HashSet<long> _asked = [];
    private volatile bool _anyAsked;
    private long _running;
    private CancellationTokenSource? _source;

    /// <summary>
    /// Marks <paramref name="id"/> running; false when the parent asked to stop it before it started (it must not run).
    /// <paramref name="token"/> is the item's token when <paramref name="withToken"/> (the body takes one), else none.
    /// </summary>
    public bool TryBegin(long id, bool withToken, out CancellationToken token)
    {
        token = default;
        if (!withToken && !_anyAsked)
            return true;
        lock (_gate)
        {
            if (_asked.Count > 0)
            {
                // Ids rise in the order items run: a request for an item before this one came too late to matter.
                var skip = _asked.Remove(id);
                _asked.RemoveWhere(asked => asked < id);
                _anyAsked = _asked.Count > 0;
                if (skip)
                    return false;
            }
            if (!withToken)
                return true;
            _running = id;
            _source = new CancellationTokenSource();
            token = _source.Token;
            return true;
        }
    }

    /// <summary>The running item has ended.</summary>
    public void End()
    {
        lock (_gate)
        {
            _running = 0;
            _source = null;
        }
    }

    /// <summary>Asks to stop <paramref name="id"/>: cancels its token if it is running, or keeps it from starting.</summary>
    public void Stop(long id)
    {
        CancellationTokenSource? running = null;
        lock (_gate)
        {
            if (id == _running)
                running = _source;
            else if (id > _running)
            {
                _asked.Add(id);
                _anyAsked = true;
            }
        }
        // Outside the lock: the body's own callbacks on the token run here.
        running?.Cancel();
    }
}
