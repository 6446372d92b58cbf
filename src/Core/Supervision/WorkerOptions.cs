using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Nursery;

/// <summary>
/// How one supervised child runs: limits on time and memory, heartbeats, batching and where the child host is.
/// An immutable record: change it with <c>with</c>. Validated when a worker starts (<see cref="Validate"/>).
/// </summary>
public sealed record WorkerOptions
{
    /// <summary>The stage name used in failures and logs.</summary>
    public string StageName { get; init; } = "worker";

    /// <summary>How long one item may run in the child before the child is killed (<see cref="ChildFailure.TimedOut"/>). <see cref="Timeout.InfiniteTimeSpan"/> for no limit.</summary>
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

    /// <summary>How long the parent waits without any frame from a child before declaring it stopped and killing it.</summary>
    public TimeSpan HeartbeatTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a child may take from start to ready (runtime start, assembly load, initializer).</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a child is given to exit after its stdin is closed before it is killed.</summary>
    public TimeSpan KillGrace { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>The memory limit per child, in bytes, enforced with a memory cgroup; 0 for none. An OOM kill is reported as <see cref="ChildFailure.OutOfMemory"/>.</summary>
    public long MemoryLimit { get; init; }

    /// <summary>The most items sent to a child in one frame. Batches form only from items already waiting; nothing waits to fill one.</summary>
    public int MaxBatch { get; init; } = 1024;

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

    /// <summary>Where the child's stderr lines and the supervisor's notes go.</summary>
    public ILogger Logger { get; init; } = NullLogger.Instance;

    /// <summary>Where the child runs: <see cref="Launcher.Local"/> (the default), a <see cref="SlurmLauncher"/> or an <see cref="SshLauncher"/>.</summary>
    public Launcher Launcher { get; init; } = Launcher.Local;

    /// <summary>Extra environment variables for the child.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary>Throws <see cref="ArgumentException"/> naming the first option out of range, and what is allowed.</summary>
    public WorkerOptions Validate()
    {
        if (string.IsNullOrWhiteSpace(StageName))
            throw new ArgumentException("StageName must not be empty; it names the stage in failures and logs.", nameof(StageName));
        RequirePositive(ItemTimeout, nameof(ItemTimeout), allowInfinite: true);
        RequirePositive(HeartbeatInterval, nameof(HeartbeatInterval), allowInfinite: false);
        RequirePositive(HeartbeatTimeout, nameof(HeartbeatTimeout), allowInfinite: true);
        RequirePositive(StartTimeout, nameof(StartTimeout), allowInfinite: false);
        if (KillGrace < TimeSpan.Zero)
            throw new ArgumentException($"KillGrace is {KillGrace}; it must be zero (kill at once) or positive.", nameof(KillGrace));
        if (HeartbeatTimeout != Timeout.InfiniteTimeSpan && HeartbeatTimeout < HeartbeatInterval * 2)
            throw new ArgumentException($"HeartbeatTimeout ({HeartbeatTimeout}) must be at least twice HeartbeatInterval ({HeartbeatInterval}), or a healthy child would be killed.", nameof(HeartbeatTimeout));
        if (MemoryLimit < 0)
            throw new ArgumentException($"MemoryLimit is {MemoryLimit}; it must be 0 (no limit) or a number of bytes.", nameof(MemoryLimit));
        if (MemoryLimit is > 0 and < 16 << 20)
            throw new ArgumentException($"MemoryLimit is {MemoryLimit} bytes; a .NET child needs at least 16 MiB (16777216) to start.", nameof(MemoryLimit));
        if (MaxBatch is < 1 or > 65536)
            throw new ArgumentException($"MaxBatch is {MaxBatch}; it must be between 1 and 65536.", nameof(MaxBatch));
        if (MaxResultBytes is < 1 or > Protocol.FrameBounds.LargestMaxResultBytes)
            throw new ArgumentException($"MaxResultBytes is {MaxResultBytes}; it must be between 1 and {Protocol.FrameBounds.LargestMaxResultBytes} (1 GiB). For larger results, return a path or a reference to the data.", nameof(MaxResultBytes));
        ArgumentNullException.ThrowIfNull(Launcher);
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
