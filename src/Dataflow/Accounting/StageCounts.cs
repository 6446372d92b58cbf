namespace Nursery;

/// <summary>A stage's attempts by outcome, counted without a lock (a lock per item was measurable).</summary>
internal sealed class StageCounts(string stage)
{
    public string Stage { get; } = stage;

    private long _succeeded;
    private long _failed;

    public long Succeeded => Interlocked.Read(ref _succeeded);

    public long Failed => Interlocked.Read(ref _failed);

    public void Add(long succeeded, long failed)
    {
        if (succeeded != 0)
            Interlocked.Add(ref _succeeded, succeeded);
        if (failed != 0)
            Interlocked.Add(ref _failed, failed);
    }
}
