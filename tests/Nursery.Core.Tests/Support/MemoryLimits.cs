namespace Nursery.Tests.Support;

/// <summary>Whether this machine lets the tests make memory cgroups (root with a writable memory controller).</summary>
public static class MemoryLimits
{
    /// <summary>Why memory-limit tests must be skipped here, or null when they can run.</summary>
    public static string? Unavailable => Nursery.Supervision.MemoryCgroup.Unavailable.MatchUnsafe(reason => "memory cgroups are not writable here: " + reason, () => null);
}

/// <summary>A fact that needs a writable memory cgroup; skipped with the reason where there is none.</summary>
public sealed class MemoryCgroupFactAttribute : FactAttribute
{
    public MemoryCgroupFactAttribute()
    {
        if (MemoryLimits.Unavailable is { } reason)
            Skip = reason;
    }
}
