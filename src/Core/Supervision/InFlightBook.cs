namespace Nursery.Supervision;

/// <summary>
/// The items a child holds: by id, in the order they were sent (the child runs them in that order), which of them
/// were abandoned (their reply is dropped), and since when the head of the child's queue has waited. Not thread-safe:
/// the worker calls it under its lock.
/// </summary>
internal sealed class InFlightBook
{
    private readonly Dictionary<long, PendingItem> _byId = [];
    private readonly Queue<PendingItem> _order = new();
    private readonly HashSet<long> _abandoned = [];

    /// <summary>How many sent items are in the queue (answered items behind the head included, until the head is answered).</summary>
    public int Count => _order.Count;

    /// <summary>Since when (Stopwatch ticks) the head of the child's queue has waited: its send, or the last reply frame.</summary>
    public long HeadSince { get; private set; }

    /// <summary>Whether the item was sent and is not yet answered.</summary>
    public bool Holds(long id) => _byId.ContainsKey(id);

    /// <summary>Whether the item is the one the child is running: the oldest unanswered one.</summary>
    public bool IsRunning(long id) => _order.TryPeek(out var head) && head.Id == id && _byId.ContainsKey(id);

    /// <summary>
    /// The item the child is running: the one its progress slot names (<paramref name="progressId"/>, 0 when it keeps
    /// none) while unanswered, else the oldest unanswered one; null when it holds none.
    /// </summary>
    public PendingItem? Running(long progressId)
    {
        if (progressId != 0 && _byId.TryGetValue(progressId, out var named))
            return named;
        return _order.TryPeek(out var head) && _byId.TryGetValue(head.Id, out var oldest) ? oldest : null;
    }

    /// <summary>Records items just sent, at <paramref name="now"/>. An item completed since it was encoded is sent, and abandoned.</summary>
    public void Register(List<PendingItem> items, long now)
    {
        foreach (var item in items)
        {
            item.SentTimestamp = now;
            _byId[item.Id] = item;
            _order.Enqueue(item);
            if (item.IsCompleted)
                _abandoned.Add(item.Id);
        }
        if (_order.Count == items.Count)
            HeadSince = now;
    }

    /// <summary>Marks an unanswered item abandoned: its reply, when it comes, is dropped. False if the child does not hold it.</summary>
    public bool Abandon(long id)
    {
        if (!_byId.ContainsKey(id))
            return false;
        _abandoned.Add(id);
        return true;
    }

    /// <summary>
    /// Takes an answered item out of the book: false if the child was not given it. <paramref name="abandoned"/> says
    /// its reply is to be dropped.
    /// </summary>
    public bool TryAnswer(long id, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out PendingItem? item, out bool abandoned)
    {
        if (!_byId.Remove(id, out item))
        {
            abandoned = false;
            return false;
        }
        abandoned = _abandoned.Count > 0 && _abandoned.Remove(id);
        return true;
    }

    /// <summary>
    /// Pops answered items off the head of the queue; the new head has waited since <paramref name="replyRead"/>, when
    /// the reply frame was read (one clock read per frame, not per item).
    /// </summary>
    public void DropAnsweredHead(long replyRead)
    {
        while (_order.TryPeek(out var head) && !_byId.ContainsKey(head.Id))
            _order.Dequeue();
        HeadSince = replyRead;
    }

    /// <summary>
    /// When the item now running started: the child's own word (<paramref name="progressId"/> started at
    /// <paramref name="progressSince"/>, from its progress slot; id 0 when it keeps none) when that item is still
    /// unanswered and started after the head's wait began; else <see cref="HeadSince"/>. Null when the child holds nothing.
    /// </summary>
    public long? RunningSince(long progressId, long progressSince)
    {
        if (_order.Count == 0)
            return null;
        return progressId != 0 && progressSince > HeadSince && _byId.ContainsKey(progressId) ? progressSince : HeadSince;
    }

    /// <summary>Empties the book; returns the unanswered items in the order they were sent.</summary>
    public PendingItem[] TakeAll()
    {
        PendingItem[] unanswered = [.. _order.Where(item => _byId.ContainsKey(item.Id))];
        _byId.Clear();
        _order.Clear();
        return unanswered;
    }
}
