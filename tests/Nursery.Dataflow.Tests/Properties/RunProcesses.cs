using System.Globalization;
using Nursery.Tests.Support;

namespace Nursery.Dataflow.Tests.Properties;

/// <summary>
/// Finds a property run's processes from /proc alone, not from what the library reports: every live process whose
/// environment holds the run's <see cref="TestBodies.PlannedBodies.RunVariable"/> (<see cref="Processes.Marked"/>). The
/// library passes the variable to every child, and children pass it on to what they start, so this finds children,
/// grandchildren and processes reparented away from the test process alike, and no process of another test running in
/// parallel in the same test process (each run has its own value). This class says where such a process stands.
/// </summary>
public static class RunProcesses
{
    /// <summary>Every live descendant of <paramref name="root"/>, found by walking the PPid links in /proc/*/stat.</summary>
    public static IReadOnlySet<int> Descendants(int root)
    {
        var children = new Dictionary<int, List<int>>();
        foreach (var pid in Processes.AllPids())
        {
            if (Processes.ParentOf(pid) is { } parent)
            {
                if (!children.TryGetValue(parent, out var list))
                    children[parent] = list = [];
                list.Add(pid);
            }
        }
        var found = new HashSet<int>();
        var pending = new Stack<int>([root]);
        while (pending.TryPop(out var pid))
            foreach (var child in children.GetValueOrDefault(pid) ?? [])
                if (found.Add(child))
                    pending.Push(child);
        return found;
    }

    /// <summary>A process for a failure message: pid, parent, state, whether it still descends from the test process, and command line.</summary>
    public static string Describe(int pid, IReadOnlySet<int> descendants)
    {
        var state = Processes.Stat(pid) is [var letter, ..] ? letter : "gone";
        var lineage = descendants.Contains(pid) ? "under the test process" : "reparented away from the test process";
        return $"{pid} (parent {Processes.ParentOf(pid)?.ToString(CultureInfo.InvariantCulture) ?? "?"}, {lineage}, state {state}, {Processes.Describe(pid).Trim()})";
    }
}
