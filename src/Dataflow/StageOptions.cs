namespace Nursery;

/// <summary>
/// How one stage runs: its children, limits, capacity and failure policy. An immutable record, validated when the
/// stage is built; anything not set here comes from the scope's <see cref="NurseryOptions"/>.
/// </summary>
public sealed record StageOptions
{
    /// <summary>The stage's name in failures, records and logs; defaults to the body's method name.</summary>
    public string Name { get; init; } = "";

    /// <summary>How many child processes run the body at once.</summary>
    public int Workers { get; init; } = Environment.ProcessorCount;

    /// <summary>
    /// How many items each child may hold at once. The stage sends items in batches of up to half this many, two
    /// batches per child at most; batch sizes adapt to how long items take (about 2 ms of work per batch), so fast
    /// items go hundreds at a time and slow ones one at a time. 1 sends each child one item at a time. The default,
    /// 1,024, lets trivial items go 512 at a time: smaller batches cost a fast stage throughput in per-batch hand-offs
    /// (docs/benchmarks.md, rows 7f and 7g). Items a child holds
    /// but has not started are sent to another child if it crashes, so a larger value loses no work. It is a count,
    /// not bytes; the input's automatic capacity follows the batches (see <see cref="BoundedCapacity"/>), so items
    /// that take milliseconds each (large ones) are not read thousands ahead.
    /// </summary>
    public int ItemsPerWorker { get; init; } = 1024;

    /// <summary>How many items may wait at the stage's input before senders wait (backpressure); 0 (automatic) follows the batch size: two rounds of batches, at least 16 items and at most Workers × ItemsPerWorker (trivial items), a few dozen for items that take milliseconds.</summary>
    public int BoundedCapacity { get; init; }

    /// <summary>Keep the source's order in the output (at the cost of waiting for slow items).</summary>
    public bool Ordered { get; init; }

    /// <summary>The deadline for one item; the child running it is killed when it passes (TimedOut). Infinite by default.</summary>
    public TimeSpan ItemTimeout { get; init; } = Timeout.InfiniteTimeSpan;

    /// <summary>The memory limit per child in bytes (a memory cgroup), 0 for none; an OOM kill is OutOfMemory.</summary>
    public long MemoryLimit { get; init; }

    /// <summary>Replace a child after this many items (0: never).</summary>
    public int RecycleAfter { get; init; }

    /// <summary>Start every child when the run starts (true) or when first needed.</summary>
    public bool StartEagerly { get; init; } = true;

    /// <summary>More restarts than this within the window fail the stage with StartFailed.</summary>
    public RestartIntensity RestartIntensity { get; init; } = new(10, TimeSpan.FromSeconds(10));

    /// <summary>Children that fail to start this many times in a row fail the stage at once (see <see cref="PoolOptions.MaxFailedStartsInARow"/>).</summary>
    public int MaxFailedStartsInARow { get; init; } = 3;

    /// <summary>What a failed item does; the scope's default policy when not set.</summary>
    public LanguageExt.Option<Policy> Policy { get; init; }

    /// <summary>Everything else about each child (heartbeats, start timeout, host location, environment).</summary>
    public WorkerOptions Worker { get; init; } = new();

    /// <summary>Throws <see cref="ArgumentException"/> naming the first option out of range.</summary>
    public StageOptions Validate()
    {
        if (Workers < 1)
            throw new ArgumentException($"Workers is {Workers}; a stage needs at least 1.", nameof(Workers));
        if (ItemsPerWorker is < 1 or > 65536)
            throw new ArgumentException($"ItemsPerWorker is {ItemsPerWorker}; it must be between 1 and 65536.", nameof(ItemsPerWorker));
        if (BoundedCapacity < 0)
            throw new ArgumentException($"BoundedCapacity is {BoundedCapacity}; it must be 0 (automatic) or positive.", nameof(BoundedCapacity));
        Policy.IfSome(policy => policy.Validate());
        return this;
    }

    internal PoolOptions ToPoolOptions(string name, NurseryOptions scope)
    {
        Validate();
        var worker = Worker with
        {
            StageName = name,
            ItemTimeout = ItemTimeout,
            MemoryLimit = MemoryLimit,
            KillGrace = scope.KillGrace,
            Logger = Worker.Logger is Microsoft.Extensions.Logging.Abstractions.NullLogger ? scope.Logger : Worker.Logger,
        };
        return new PoolOptions
        {
            Workers = Workers,
            StartEagerly = StartEagerly,
            RecycleAfter = RecycleAfter,
            RestartIntensity = RestartIntensity,
            MaxFailedStartsInARow = MaxFailedStartsInARow,
            Worker = worker,
        }.Validate();
    }
}
