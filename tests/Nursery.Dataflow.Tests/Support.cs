namespace Nursery.Dataflow.Tests;

/// <summary>A fact that needs a writable memory cgroup; skipped with the reason where there is none.</summary>
public sealed class MemoryCgroupFactAttribute : FactAttribute
{
    public MemoryCgroupFactAttribute()
    {
        var unavailable = Nursery.Supervision.MemoryCgroup.Unavailable;
        if (unavailable.IsSome)
            Skip = "memory cgroups are not writable here: " + unavailable.IfNone("");
    }
}
