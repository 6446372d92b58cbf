using LanguageExt;

namespace Nursery.Supervision;

/// <summary>What a child's memory cgroup says after the child ended.</summary>
/// <param name="LimitBytes">The cgroup's limit.</param>
/// <param name="OomKills">How many processes the kernel's OOM killer ended in the cgroup.</param>
/// <param name="PeakBytes">The most memory the cgroup used, when the kernel reports it.</param>
internal readonly record struct MemoryFacts(long LimitBytes, long OomKills, Option<long> PeakBytes);
