using LanguageExt;

namespace Nursery;

/// <summary>
/// Whether this machine lets Nursery enforce <c>MemoryLimit</c>s: a memory cgroup (v1 or v2) it can create under its
/// own. Where it cannot, a memory limit is not applied, a warning is logged once, and a child killed by SIGKILL is
/// reported as <see cref="ChildFailure.Crashed"/> (signal 9, "possibly out of memory") instead of
/// <see cref="ChildFailure.OutOfMemory"/>.
/// </summary>
public static class MemoryLimits
{
    /// <summary>True when memory limits are enforced and OOM kills are told apart from other kills.</summary>
    public static bool Enforced => Supervision.MemoryCgroup.Unavailable.IsNone;

    /// <summary>Why memory limits cannot be enforced here (run as root, or delegate a memory cgroup to this user), or None when they can.</summary>
    public static Option<string> Unavailable => Supervision.MemoryCgroup.Unavailable;
}
