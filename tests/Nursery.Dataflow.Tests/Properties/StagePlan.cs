namespace Nursery.Dataflow.Tests.Properties;

/// <summary>How one stage is configured; which faults it may be given follows from it.</summary>
public sealed record StagePlan(StageKind Kind, int Workers, int ItemsPerWorker, int BoundedCapacity, bool Ordered, bool StartEagerly, int ItemTimeoutMs, bool FastHeartbeat, bool MemoryLimited, bool InitializerFails)
{
    public static readonly TimeSpan HeartbeatInterval = TimeSpan.FromMilliseconds(100);
    public static readonly TimeSpan HeartbeatTimeout = TimeSpan.FromMilliseconds(800);
    public const long MemoryLimit = 64L << 20;

    public TimeSpan ItemTimeout => ItemTimeoutMs > 0 ? TimeSpan.FromMilliseconds(ItemTimeoutMs) : Timeout.InfiniteTimeSpan;

    /// <summary>Whether a hang (sleep forever) ends: only an item timeout ends it.</summary>
    public bool EndsAHang => ItemTimeoutMs > 0;

    /// <summary>Whether a SIGSTOP ends: an item timeout, or heartbeats missed (a .NET child host, or a Python worker that sends them).</summary>
    public bool EndsAStop => ItemTimeoutMs > 0 || (FastHeartbeat && Kind != StageKind.PerItem);

    /// <summary>How long a hang or stop may take to be noticed, generously: both timeouts added.</summary>
    public TimeSpan HangBound => (ItemTimeoutMs > 0 ? ItemTimeout : TimeSpan.Zero) + (FastHeartbeat ? HeartbeatTimeout : TimeSpan.Zero);

    public override string ToString() =>
        $"{Kind} workers={Workers} perWorker={ItemsPerWorker} capacity={BoundedCapacity}{(Ordered ? " ordered" : "")}{(StartEagerly ? "" : " lazy")}"
        + $"{(ItemTimeoutMs > 0 ? $" itemTimeout={ItemTimeoutMs}ms" : "")}{(FastHeartbeat ? " heartbeat=100/800ms" : "")}{(MemoryLimited ? " memory=64MiB" : "")}{(InitializerFails ? " INIT-FAILS" : "")}";
}
