namespace Nursery;

/// <summary>
/// How many children a <see cref="WorkerPool{TIn,TOut}"/> keeps and their lifecycle: how many, how many items each
/// holds, when they start, when they are replaced; and what each child is (<see cref="Worker"/>). An immutable record,
/// validated when the pool is built. <c>StageOptions</c> is a pool's options with what a stage adds.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1852", Justification = "StageOptions derives from it, so that a stage's pool settings are the pool's own.")]
public record PoolOptions
{
    /// <summary>The default of <see cref="ItemsPerWorker"/>.</summary>
    public const int DefaultItemsPerWorker = 1024;

    /// <summary>The largest <see cref="ItemsPerWorker"/>.</summary>
    public const int LargestItemsPerWorker = 65536;

    /// <summary>How many children run at once (1 to 4,096).</summary>
    public int Workers { get; init; } = Environment.ProcessorCount;

    /// <summary>
    /// How many items each child may hold at once (1 to 65,536; 1,024 by default): the one batch knob. Items go in
    /// batches of up to half this many, two batches per child at most (a stage's window, the pool's
    /// <see cref="WorkerPool{TIn,TOut}.MapAsync(IEnumerable{TIn}, CancellationToken)"/>), and a child's request frame carries at most this many. Batch sizes
    /// adapt to how long items take (about 2 ms of work per batch), so fast items go hundreds at a time and slow ones
    /// one at a time; 1 sends each child one item at a time. Items a child holds but has not started are sent to another
    /// child if it crashes, so a larger value loses no work. It is a count, not bytes. A per-item command runs each
    /// item in a process of its own, whatever this says.
    /// </summary>
    public int ItemsPerWorker { get; init; } = DefaultItemsPerWorker;

    /// <summary>Start every child when the pool (or the run) starts (true), or each when it is first needed.</summary>
    public bool StartEagerly { get; init; } = true;

    /// <summary>Replace a child after it has answered this many items, to bound leaks in the body; null (the default): never.</summary>
    public int? RecycleAfter { get; init; }

    /// <summary>
    /// Keep one more child started and ready beside the pool's, to replace a child that dies at once instead of after a
    /// fresh start (false by default). The spare costs a child's memory while it waits (see docs/dataflow.md) and a
    /// start in the background after each replacement; it is started once the first child is ready, taking it counts as
    /// a restart against <see cref="RestartIntensity"/>, and it is reaped with the pool.
    /// </summary>
    public bool WarmSpare { get; init; }

    /// <summary>More restarts than this within the window fail the pool with StartFailed instead of respawning forever.</summary>
    public RestartIntensity RestartIntensity { get; init; } = new(10, TimeSpan.FromSeconds(10));

    /// <summary>
    /// Children that fail to start this many times in a row (an initializer that throws, a missing host) fail the pool
    /// with StartFailed at once, whatever the restart intensity allows for children that crash after starting.
    /// </summary>
    public int MaxFailedStartsInARow { get; init; } = 3;

    /// <summary>What each child is: its limits, heartbeats, launcher, logger (see <see cref="WorkerOptions"/>).</summary>
    public WorkerOptions Worker { get; init; } = new();

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting out of range, and what is allowed.</summary>
    public virtual PoolOptions Validate()
    {
        if (Workers is < 1 or > 4096)
            throw new ArgumentException($"Workers is {Workers}; it must be between 1 and 4096.", nameof(Workers));
        if (ItemsPerWorker is < 1 or > LargestItemsPerWorker)
            throw new ArgumentException($"ItemsPerWorker is {ItemsPerWorker}; it must be between 1 and {LargestItemsPerWorker}.", nameof(ItemsPerWorker));
        if (RecycleAfter < 1)
            throw new ArgumentException($"RecycleAfter is {RecycleAfter}; it must be 1 or more items, or null to never replace a child.", nameof(RecycleAfter));
        if (RestartIntensity is null)
            throw new ArgumentException("RestartIntensity is null; give one such as new RestartIntensity(10, TimeSpan.FromSeconds(10)).", nameof(RestartIntensity));
        if (RestartIntensity.MaxRestarts < 0)
            throw new ArgumentException($"RestartIntensity.MaxRestarts is {RestartIntensity.MaxRestarts}; it must be 0 or more.", nameof(RestartIntensity));
        if (RestartIntensity.Window <= TimeSpan.Zero)
            throw new ArgumentException($"RestartIntensity.Window is {RestartIntensity.Window}; it must be positive.", nameof(RestartIntensity));
        if (MaxFailedStartsInARow < 1)
            throw new ArgumentException($"MaxFailedStartsInARow is {MaxFailedStartsInARow}; it must be 1 or more.", nameof(MaxFailedStartsInARow));
        if (Worker is null)
            throw new ArgumentException("Worker is null; leave it unset for the defaults, or give a WorkerOptions.", nameof(Worker));
        Worker.Validate();
        return this;
    }

    /// <summary>These pool settings alone, as a <see cref="PoolOptions"/> (the pool part of a <c>StageOptions</c>).</summary>
    protected PoolOptions PoolPart() => new(this);

    /// <summary>The options each child of the pool starts with: <see cref="Worker"/>, its frames bounded by <see cref="ItemsPerWorker"/>.</summary>
    internal WorkerOptions ChildOptions() => Worker with { MaxFrameItems = ItemsPerWorker };
}
