using Microsoft.Extensions.Logging;

namespace Nursery;

/// <summary>
/// What one supervised child is: its limits on time and memory, heartbeats, the largest result, where it runs and
/// what it logs through. An immutable record: change it with <c>with</c>. Validated when a worker, pool or stage is
/// built; an <see cref="ArgumentException"/> names the setting and what is allowed. In a stage, each setting here
/// reaches every child of the stage unchanged (<c>StageOptions</c> holds it as <see cref="PoolOptions.Worker"/>).
/// </summary>
public sealed record WorkerOptions
{
    private const long SmallestMemoryLimit = 16 << 20;

    /// <summary>The name of a worker or pool in failures and logs; null: "worker". A stage's children take the stage's <c>StageOptions.Name</c>: leave this null there.</summary>
    public string? Name { get; init; }

    /// <summary>How long one item may run in the child before the child is killed (<see cref="ChildFailure.TimedOut"/>). <see cref="Timeout.InfiniteTimeSpan"/> (the default) for no limit.</summary>
    public TimeSpan ItemTimeout { get; init; } = Timeout.InfiniteTimeSpan;

    /// <summary>How often the child sends a heartbeat.</summary>
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// Whether a .NET child may send the replies of consecutive fast items in one frame (default true): many times the
    /// throughput for small items. The child records in memory shared with the parent which item it is running, so a
    /// crash or hang is still blamed on the right item; items that had finished with their replies still batched when
    /// the child died are sent again (not started: same attempt), so such an item's body may run twice. False: every
    /// reply is written before the next item starts (a body runs at most once per attempt).
    /// </summary>
    public bool BatchReplies { get; init; } = true;

    /// <summary>How long the parent waits without any frame from a child before declaring it stopped and killing it; <see cref="Timeout.InfiniteTimeSpan"/> to never.</summary>
    public TimeSpan HeartbeatTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a child may take from start to ready (runtime start, assembly load, initializer).</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a child is given to exit after its stdin is closed (at the end of a run, or when a worker is disposed) before it is killed; zero kills at once. On an abort, children are killed at once.</summary>
    public TimeSpan KillGrace { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>The memory limit per child, in bytes, enforced with a memory cgroup (at least 16 MiB); null (the default) for none. An OOM kill is reported as <see cref="ChildFailure.OutOfMemory"/>.</summary>
    public long? MemoryLimit { get; init; }

    /// <summary>
    /// The largest result of one item, in bytes once encoded (64 MiB by default, at most 1 GiB). A .NET body's larger
    /// result fails that item alone with a <see cref="ChildFailure.ProtocolViolation"/> that says so, and the child
    /// serves the next item; a persistent command's longer line, or a frame over its kind's bound, is a
    /// <see cref="ChildFailure.ProtocolViolation"/> that ends the child. Return a path or a reference to large data
    /// instead of the data.
    /// </summary>
    public int MaxResultBytes { get; init; } = Protocol.FrameBounds.DefaultMaxResultBytes;

    /// <summary>Where the child host and the dotnet executable are.</summary>
    public ChildHostLocation Host { get; init; } = ChildHostLocation.Default;

    /// <summary>Where the child's stderr lines and the supervisor's notes go; null: the scope's <c>NurseryOptions.Logger</c> in a stage, nowhere for a bare worker or pool.</summary>
    public ILogger? Logger { get; init; }

    /// <summary>
    /// Where the Nursery meter comes from (a host's <see cref="System.Diagnostics.Metrics.IMeterFactory"/>, so its
    /// instruments live and die with the host's container); null: one static meter named "Nursery" for the process.
    /// In a stage, null takes the scope's <c>NurseryOptions.MeterFactory</c>.
    /// </summary>
    public System.Diagnostics.Metrics.IMeterFactory? MeterFactory { get; init; }

    /// <summary>Where the child runs: <see cref="Launcher.Local"/> (the default), a <see cref="SlurmLauncher"/> or an <see cref="SshLauncher"/>.</summary>
    public Launcher Launcher { get; init; } = Launcher.Local;

    /// <summary>Extra environment variables for the child.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary>The name used in failures and logs: <see cref="Name"/>, or "worker".</summary>
    internal string NameOrDefault => Name ?? "worker";

    /// <summary>The most items sent to a child in one frame: a pool's <see cref="PoolOptions.ItemsPerWorker"/>, 1,024 for a bare worker. Batches form only from items already waiting; nothing waits to fill one.</summary>
    internal int MaxFrameItems { get; init; } = PoolOptions.DefaultItemsPerWorker;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting out of range, and what is allowed.</summary>
    public WorkerOptions Validate()
    {
        if (Name is not null && string.IsNullOrWhiteSpace(Name))
            throw new ArgumentException("Name is empty; give it a name for failures and logs, or leave it null.", nameof(Name));
        RequirePositive(ItemTimeout, nameof(ItemTimeout), allowInfinite: true);
        RequirePositive(HeartbeatInterval, nameof(HeartbeatInterval), allowInfinite: false);
        RequirePositive(HeartbeatTimeout, nameof(HeartbeatTimeout), allowInfinite: true);
        RequirePositive(StartTimeout, nameof(StartTimeout), allowInfinite: false);
        if (KillGrace < TimeSpan.Zero)
            throw new ArgumentException($"KillGrace is {KillGrace}; it must be zero (kill at once) or positive.", nameof(KillGrace));
        if (HeartbeatTimeout != Timeout.InfiniteTimeSpan && HeartbeatTimeout < HeartbeatInterval * 2)
            throw new ArgumentException($"HeartbeatTimeout ({HeartbeatTimeout}) must be at least twice HeartbeatInterval ({HeartbeatInterval}), or a healthy child would be killed.", nameof(HeartbeatTimeout));
        if (MemoryLimit is < SmallestMemoryLimit)
            throw new ArgumentException($"MemoryLimit is {MemoryLimit} bytes; a .NET child needs at least 16 MiB ({SmallestMemoryLimit}) to start. Leave it null for no limit.", nameof(MemoryLimit));
        if (MaxResultBytes is < 1 or > Protocol.FrameBounds.LargestMaxResultBytes)
            throw new ArgumentException($"MaxResultBytes is {MaxResultBytes}; it must be between 1 and {Protocol.FrameBounds.LargestMaxResultBytes} (1 GiB). For larger results, return a path or a reference to the data.", nameof(MaxResultBytes));
        if (Launcher is null)
            throw new ArgumentException("Launcher is null; use Launcher.Local (the default), a SlurmLauncher or an SshLauncher.", nameof(Launcher));
        if (Host is null)
            throw new ArgumentException("Host is null; use ChildHostLocation.Default (the default) or say where the child host is.", nameof(Host));
        if (Environment is null)
            throw new ArgumentException("Environment is null; give an empty dictionary for no extra variables.", nameof(Environment));
        Launcher.Validate(this);
        return this;
    }

    private static void RequirePositive(TimeSpan value, string name, bool allowInfinite)
    {
        if (allowInfinite && value == Timeout.InfiniteTimeSpan)
            return;
        if (value <= TimeSpan.Zero)
            throw new ArgumentException($"{name} is {value}; it must be positive{(allowInfinite ? " or Timeout.InfiniteTimeSpan" : "")}.", name);
    }
}
