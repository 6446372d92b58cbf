namespace Nursery.Tests.Support;

/// <summary>
/// A fact that needs a writable memory cgroup; skipped with the reason where there is none (what
/// <see cref="Nursery.MemoryLimits.Unavailable"/> says).
/// </summary>
public sealed class MemoryCgroupFactAttribute : FactAttribute
{
    public MemoryCgroupFactAttribute()
    {
        if (Nursery.MemoryLimits.Unavailable.Case is string reason)
            Skip = "memory cgroups are not writable here: " + reason;
    }
}
