using Nursery.Protocol;

namespace Nursery.Supervision;

/// <summary>
/// The items a child holds: in the order they were sent (the child runs and answers them in that order), which of
/// them were abandoned (their reply is dropped), and since when the head of the child's queue has waited. A ring of
/// entries rather than a dictionary by id: a reply is matched to the first unanswered entry, which it names in the
/// child's order, so the common case costs no hashing; a reply out of order is still found, by a scan. Not
/// thread-safe: the worker calls it under its lock.
/// </summary>
internal sealed class InFlightBook
{
    private Entry[] _ring = new Entry[64];
    private int _head;

    /// <summary>How many entries from the head are answered: the first unanswered one is at this offset.</summary>
    private int _answeredAhead;

    /// <summary>How many sent items are in the queue (answered items behind the head included, until the head is answered).</summary>
    public int Count { get; private set; }

    /// <summary>Since when (Stopwatch ticks) the head of the child's queue has waited: its send, or the last reply frame.</summary>
    public long HeadSince { get; private set; }

    /// <summary>Whether the item was sent and is not yet answered.</summary>
    public bool Holds(long id) => Find(id) >= 0;

    /// <summary>Whether the item is the one the child is running: the oldest unanswered one.</summary>
    public bool IsRunning(long id) => Count > 0 && At(0).Item.Id == id && !At(0).Answered;

    /// <summary>
    /// The item to stop when the child's current work is to be stopped (cancel, disposal, item deadline): the item its
    /// progress slot names as last started while unanswered, else the oldest unanswered item, the one the child runs
    /// next; null when it holds none. Between items this names the item the child is about to start, so a Stop frame
    /// reaches it whether it starts before or after the frame arrives. Which item a dead child was running is
    /// <see cref="Fates"/>'s to say, not this.
    /// </summary>
    public PendingItem? ToStop(ChildProgress progress)
    {
        if (progress.Started != 0 && Find(progress.Started) is >= 0 and var named)
            return At(named).Item;
        return _answeredAhead < Count ? At(_answeredAhead).Item : null;
    }

    /// <summary>
    /// What became of the unanswered items of a child that has ended (<paramref name="unanswered"/>, from
    /// <see cref="TakeAll"/>, in the order sent, which is the order the child runs them in): the first
    /// <c>Finished</c> ran to the end, their replies lost with the child; the one at <c>Running</c> (-1: none) was
    /// running; the rest never started. With a progress slot that is what it says; without one, the oldest is blamed.
    /// </summary>
    public static (int Finished, int Running) Fates(IReadOnlyList<PendingItem> unanswered, ChildProgress progress)
    {
        if (!progress.Kept)
            return (0, unanswered.Count > 0 ? 0 : -1);
        var started = -1;
        for (var i = 0; progress.Started != 0 && i < unanswered.Count; i++)
        {
            if (unanswered[i].Id == progress.Started)
            {
                started = i;
                break;
            }
        }
        // Not among them: the item last started was answered, and every unanswered item was sent after it.
        if (started < 0)
            return (0, -1);
        return progress.Running == progress.Started ? (started, started) : (started + 1, -1);
    }

    /// <summary>Records items just sent, at <paramref name="now"/>. An item completed since it was encoded is sent, and abandoned.</summary>
    public void Register(List<PendingItem> items, long now)
    {
        if (Count + items.Count > _ring.Length)
            Grow(Count + items.Count);
        var mask = _ring.Length - 1;
        var at = (_head + Count) & mask;
        foreach (var item in items)
        {
            item.SentTimestamp = now;
            _ring[at] = new Entry(item, answered: false, abandoned: item.IsCompleted);
            at = (at + 1) & mask;
        }
        Count += items.Count;
        if (Count == items.Count)
            HeadSince = now;
    }

    /// <summary>Marks an unanswered item abandoned: its reply, when it comes, is dropped. False if the child does not hold it.</summary>
    public bool Abandon(long id)
    {
        var offset = Find(id);
        if (offset < 0)
            return false;
        At(offset).Abandoned = true;
        return true;
    }

    /// <summary>
    /// Takes an answered item out of the book: false if the child was not given it. <paramref name="abandoned"/> says
    /// its reply is to be dropped.
    /// </summary>
    public bool TryAnswer(long id, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out PendingItem? item, out bool abandoned)
    {
        var offset = _answeredAhead < Count && At(_answeredAhead).Item.Id == id ? _answeredAhead : Find(id);
        if (offset < 0)
        {
            item = null;
            abandoned = false;
            return false;
        }
        ref var entry = ref At(offset);
        entry.Answered = true;
        item = entry.Item;
        abandoned = entry.Abandoned;
        while (_answeredAhead < Count && At(_answeredAhead).Answered)
            _answeredAhead++;
        return true;
    }

    /// <summary>
    /// Pops answered items off the head of the queue; the new head has waited since <paramref name="replyRead"/>, when
    /// the reply frame was read (one clock read per frame, not per item).
    /// </summary>
    public void DropAnsweredHead(long replyRead)
    {
        var mask = _ring.Length - 1;
        for (var i = 0; i < _answeredAhead; i++)
        {
            _ring[_head] = default;
            _head = (_head + 1) & mask;
        }
        Count -= _answeredAhead;
        _answeredAhead = 0;
        HeadSince = replyRead;
    }

    /// <summary>
    /// When the item now running started: the child's own word (its progress slot's start time) when that item is
    /// still unanswered and started after the head's wait began; else <see cref="HeadSince"/>. Null when the child
    /// holds nothing.
    /// </summary>
    public long? RunningSince(ChildProgress progress)
    {
        if (Count == 0)
            return null;
        return progress.Running != 0 && progress.Since > HeadSince && Holds(progress.Running) ? progress.Since : HeadSince;
    }

    /// <summary>Empties the book; returns the unanswered items in the order they were sent.</summary>
    public PendingItem[] TakeAll()
    {
        var unanswered = new List<PendingItem>(Count);
        for (var offset = 0; offset < Count; offset++)
        {
            if (!At(offset).Answered)
                unanswered.Add(At(offset).Item);
        }
        Array.Clear(_ring);
        _head = 0;
        _answeredAhead = 0;
        Count = 0;
        return [.. unanswered];
    }

    private ref Entry At(int offset) => ref _ring[(_head + offset) & (_ring.Length - 1)];

    /// <summary>The offset of the unanswered entry of item <paramref name="id"/>, or -1.</summary>
    private int Find(long id)
    {
        // Ids are consecutive within a batch and batches are usually sent in the order their ids were taken: try the
        // offset that would give, then scan.
        if (_answeredAhead < Count)
        {
            var guess = _answeredAhead + (id - At(_answeredAhead).Item.Id);
            if (guess >= _answeredAhead && guess < Count && At((int)guess).Item.Id == id && !At((int)guess).Answered)
                return (int)guess;
        }
        for (var offset = _answeredAhead; offset < Count; offset++)
        {
            ref var entry = ref At(offset);
            if (entry.Item.Id == id && !entry.Answered)
                return offset;
        }
        return -1;
    }

    private void Grow(int needed)
    {
        var size = _ring.Length * 2;
        while (size < needed)
            size *= 2;
        var ring = new Entry[size];
        for (var offset = 0; offset < Count; offset++)
            ring[offset] = At(offset);
        _ring = ring;
        _head = 0;
    }

    private struct Entry(PendingItem item, bool answered, bool abandoned)
    {
        public readonly PendingItem Item = item;
        public bool Answered = answered;
        public bool Abandoned = abandoned;
    }
}
