namespace Nursery.ChildHost;

/// <summary>
/// Request frames from the receiver thread to the serving thread. The server blocks only when nothing is queued; a
/// frame added while it works costs the receiver a lock and no wake-up. The frames are linked through
/// <see cref="RequestFrame.Next"/> rather than held in a <c>Queue&lt;T&gt;</c>, whose assembly a fresh child would
/// otherwise load on its way to Ready.
/// </summary>
internal sealed class WorkQueue
{
    private readonly object _gate = new();
    private RequestFrame? _first;
    private RequestFrame? _last;
    private bool _waiting;

    public void Add(RequestFrame frame)
    {
        lock (_gate)
        {
            frame.Next = null;
            if (_last is null)
                _first = frame;
            else
                _last.Next = frame;
            _last = frame;
            if (_waiting)
                Monitor.Pulse(_gate);
        }
    }

    /// <summary>The oldest frame, waiting for one when none is queued.</summary>
    public RequestFrame Take()
    {
        lock (_gate)
        {
            while (_first is null)
            {
                _waiting = true;
                Monitor.Wait(_gate);
                _waiting = false;
            }
            var frame = _first;
            _first = frame.Next;
            if (_first is null)
                _last = null;
            frame.Next = null;
            return frame;
        }
    }

    /// <summary>Waits up to <paramref name="timeout"/> for a frame to be queued (without taking it); false if none came.</summary>
    public bool WaitForWork(TimeSpan timeout)
    {
        lock (_gate)
        {
            if (_first is not null)
                return true;
            _waiting = true;
            Monitor.Wait(_gate, timeout);
            _waiting = false;
            return _first is not null;
        }
    }

    /// <summary>Whether no frame is waiting (the server then sends what replies it holds).</summary>
    public bool IsEmpty
    {
        get
        {
            lock (_gate)
                return _first is null;
        }
    }
}
