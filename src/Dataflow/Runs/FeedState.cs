namespace Nursery;

/// <summary>
/// What the feed and <see cref="PipelineRun.WaitForFeedAsync"/> share: which read of the source is going on (marked with plain
/// volatile writes, nothing interlocked per item), whether the feed has finished, and whether the run has gone on
/// without it. After an abort the feed checks <see cref="IsLeft"/> after every read, before it touches anything.
/// </summary>
internal sealed class FeedState
{
    /// <summary>How long a read must be seen going on before the feed is left behind.</summary>
    public static readonly TimeSpan StuckAfter = TimeSpan.FromMilliseconds(50);

    private long _reads;
    private volatile bool _reading;

    public Lock Gate { get; } = new();

    /// <summary>Under <see cref="Gate"/>: the feed has settled its books.</summary>
    public bool Finished { get; set; }

    /// <summary>Counts and ends what the feed holds; run under <see cref="Gate"/> when the feed is left behind.</summary>
    public Action? Settle { get; set; }

    private bool _left;

    public bool IsLeft
    {
        get
        {
            lock (Gate)
                return _left;
        }
    }

    /// <summary>The read going on now (numbered from 1), or 0.</summary>
    public long CurrentRead => _reading ? Volatile.Read(ref _reads) : 0;

    public void BeginRead()
    {
        Volatile.Write(ref _reads, _reads + 1);
        _reading = true;
    }

    public void EndRead() => _reading = false;

    /// <summary>Leaves the feed if it is still in read <paramref name="read"/>; false if it has moved on or finished.</summary>
    public bool TryLeave(long read)
    {
        lock (Gate)
        {
            if (Finished || _left || CurrentRead != read)
                return false;
            _left = true;
            Settle?.Invoke();
            return true;
        }
    }
}
