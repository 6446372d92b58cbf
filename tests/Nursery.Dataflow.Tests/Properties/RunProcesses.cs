using System.Globalization;
using System.Text;

namespace Nursery.Dataflow.Tests.Properties;

/// <summary>
/// Finds a property run's processes from /proc alone, not from what the library reports: every live process whose
/// environment holds the run's <see cref="TestBodies.PlannedBodies.RunVariable"/>. The library passes the variable to
/// every child, and children pass it on to what they start, so this finds children, grandchildren and processes
/// reparented away from the test process alike, and no process of another test running in parallel in the same test
/// process (each run has its own value).
/// </summary>
public static class RunProcesses
{
    /// <summary>The live processes (not zombies) whose environment holds <c>name=value</c>.</summary>
    public static IReadOnlyList<int> Marked(string name, string value)
    {
        var needle = Encoding.UTF8.GetBytes($"{name}={value}\0");
        var found = new List<int>();
        foreach (var entry in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(entry), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid == Environment.ProcessId)
                continue;
            try
            {
                var environment = File.ReadAllBytes(Path.Combine(entry, "environ"));
                if (Contains(environment, needle) && Nursery.Tests.Support.Processes.IsAlive(pid))
                    found.Add(pid);
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                // Gone meanwhile, or another user's process: not one this run started.
            }
        }
        return found;
    }

    /// <summary>Every live descendant of <paramref name="root"/>, found by walking the PPid links in /proc/*/stat.</summary>
    public static IReadOnlySet<int> Descendants(int root)
    {
        var children = new Dictionary<int, List<int>>();
        foreach (var entry in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(entry), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
                continue;
            if (ParentOf(pid) is { } parent)
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

    /// <summary>The parent pid from /proc/pid/stat, or null when the process is gone.</summary>
    public static int? ParentOf(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], CultureInfo.InvariantCulture);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or FormatException)
        {
            return null;
        }
    }

    /// <summary>A process for a failure message: pid, parent, state, whether it still descends from the test process, and command line.</summary>
    public static string Describe(int pid, IReadOnlySet<int> descendants)
    {
        string state;
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            state = stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[0];
        }
        catch (IOException)
        {
            state = "gone";
        }
        var lineage = descendants.Contains(pid) ? "under the test process" : "reparented away from the test process";
        return $"{pid} (parent {ParentOf(pid)?.ToString(CultureInfo.InvariantCulture) ?? "?"}, {lineage}, state {state}, {Nursery.Tests.Support.Processes.Describe(pid).Trim()})";
    }

    private static bool Contains(byte[] haystack, byte[] needle) => haystack.AsSpan().IndexOf(needle) >= 0;
}
