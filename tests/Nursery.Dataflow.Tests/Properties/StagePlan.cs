namespace Nursery.Dataflow.Tests.Properties;

/// <summary>How one stage is configured; which faults it may be given follows from it.</summary>
public sealed record StagePlan(int Workers, int ItemsPerWorker, int BoundedCapacity, bool Ordered, bool StartEagerly, int ItemTimeoutMs, bool FastHeartbeat, bool MemoryLimited, bool InitializerFails)
{
    public static readonly TimeSpan HeartbeatInterval = TimeSpan.FromMilliseconds(100);
    public static readonly TimeSpan HeartbeatTimeout = TimeSpan.FromMilliseconds(800);
    public const long MemoryLimit = 64L << 20;

    public TimeSpan ItemTimeout => ItemTimeoutMs > 0 ? TimeSpan.FromMilliseconds(ItemTimeoutMs) : Timeout.InfiniteTimeSpan;

    public override string ToString() =>
        $"workers={Workers} perWorker={ItemsPerWorker} capacity={BoundedCapacity}{(Ordered ? " ordered" : "")}{(StartEagerly ? "" : " lazy")}"
        + $"{(ItemTimeoutMs > 0 ? $" itemTimeout={ItemTimeoutMs}ms" : "")}{(FastHeartbeat ? " heartbeat=100/800ms" : "")}{(MemoryLimited ? " memory=64MiB" : "")}{(InitializerFails ? " INIT-FAILS" : "")}";
}
