namespace Nursery.ChildHost;

/// <summary>
/// Request frames from the receiver thread to the serving thread. The server blocks only when nothing is queued; a
/// frame added while it works costs the receiver a lock and no wake-up.
/// </summary>
internal sealed class WorkQueue
{
    private readonly Queue<RequestFrame> _frames = new();
    private readonly object _gate = new();
    private bool _waiting;

    public void Add(RequestFrame frame)
    {
        lock (_gate)
        {
            _frames.Enqueue(frame);
            if (_waiting)
                Monitor.Pulse(_gate);
        }
    }

    /// <summary>The oldest frame, waiting for one when none is queued.</summary>
    public RequestFrame Take()
    {
        lock (_gate)
        {
            while (_frames.Count == 0)
            {
                _waiting = true;
                Monitor.Wait(_gate);
                _waiting = false;
            }
            return _frames.Dequeue();
        }
    }

    /// <summary>Waits up to <paramref name="timeout"/> for a frame to be queued (without taking it); false if none came.</summary>
    public bool WaitForWork(TimeSpan timeout)
    {
        lock (_gate)
        {
            if (_frames.Count > 0)
                return true;
            _waiting = true;
            Monitor.Wait(_gate, timeout);
            _waiting = false;
            return _frames.Count > 0;
        }
    }

        /// <summary>Whether no frame is waiting (the server then sends what replies it holds).</summary>
    public bool IsEmpty
    {
        get
        {
            lock (_gate)
                return _frames.Count == 0;
        }
    }
}
