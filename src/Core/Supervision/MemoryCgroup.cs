using System.Globalization;
using System.Text.RegularExpressions;
using LanguageExt;

namespace Nursery.Supervision;

/// <summary>
/// A memory cgroup made for one child: created under this process's own memory cgroup with a limit, the child
/// moved in, its OOM kills counted, emptied (every process in it killed) and removed afterwards. Supports cgroup v1
/// (memory controller) and v2.
/// </summary>
/// <remarks>
/// Named <c>nursery-&lt;pid&gt;-&lt;start time&gt;-&lt;n&gt;</c> after the process that made it (its pid and its start time in
/// clock ticks since boot, which tell it from a later process given the same pid). A parent killed by SIGKILL cannot
/// remove its cgroups: the first cgroup made by any later process under the same parent cgroup sweeps them
/// (<see cref="SweepStaleAsync"/>).
/// </remarks>
internal sealed partial class MemoryCgroup
{
    private static readonly Lazy<Either<string, (string Root, bool V2)>> Parent = new(FindParent);
    private static readonly Lazy<string> OwnStartTime = new(() => StartTime(Environment.ProcessId) ?? "0");
    private static int _sequence;
    private static int _swept;
    private readonly string _path;
    private readonly bool _v2;

    private MemoryCgroup(string path, bool v2, long limitBytes)
    {
        _path = path;
        _v2 = v2;
        LimitBytes = limitBytes;
    }

    public long LimitBytes { get; }

    /// <summary>The file a process writes its pid to in order to enter the cgroup.</summary>
    public string ProcessesFile => Path.Combine(_path, "cgroup.procs");

    /// <summary>Why memory limits cannot be enforced here, or None when they can.</summary>
    public static Option<string> Unavailable => Parent.Value.Match(_ => Option<string>.None, reason => reason);

    /// <summary>Makes a cgroup with the limit, or says why not.</summary>
    public static Either<string, MemoryCgroup> Create(long limitBytes)
    {
        if (limitBytes <= 0)
            return "the memory limit must be positive";
        return Parent.Value.Bind<MemoryCgroup>(parent =>
        {
            if (Interlocked.Exchange(ref _swept, 1) == 0)
                _ = Task.Run(() => SweepStaleAsync(parent.Root));
            var name = $"nursery-{Environment.ProcessId}-{OwnStartTime.Value}-{Interlocked.Increment(ref _sequence)}";
            var path = Path.Combine(parent.Root, name);
            try
            {
                Directory.CreateDirectory(path);
                var limit = limitBytes.ToString(CultureInfo.InvariantCulture);
                if (parent.V2)
                {
                    File.WriteAllText(Path.Combine(path, "memory.max"), limit);
                    TryWrite(Path.Combine(path, "memory.swap.max"), "0");
                }
                else
                {
                    File.WriteAllText(Path.Combine(path, "memory.limit_in_bytes"), limit);
                    TryWrite(Path.Combine(path, "memory.memsw.limit_in_bytes"), limit);
                    TryWrite(Path.Combine(path, "memory.swappiness"), "0");
                }
                return new MemoryCgroup(path, parent.V2, limitBytes);
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                TryRemove(path);
                return $"cannot create memory cgroup {path}: {exception.Message}";
            }
        });
    }

    /// <summary>Moves a process into the cgroup. Its later children follow it.</summary>
    public Either<string, Unit> Add(int processId)
    {
        try
        {
            File.WriteAllText(Path.Combine(_path, "cgroup.procs"), processId.ToString(CultureInfo.InvariantCulture));
            return Unit.Default;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return $"cannot move pid {processId} into {_path}: {exception.Message}";
        }
    }

    /// <summary>How many times the kernel's OOM killer has killed a process in this cgroup.</summary>
    public long OomKills()
    {
        var file = Path.Combine(_path, _v2 ? "memory.events" : "memory.oom_control");
        try
        {
            foreach (var line in File.ReadLines(file))
            {
                if (line.StartsWith("oom_kill ", StringComparison.Ordinal) && long.TryParse(line.AsSpan(9), NumberStyles.Integer, CultureInfo.InvariantCulture, out var count))
                    return count;
            }
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException) { }
        return 0;
    }

    /// <summary>The highest memory use recorded, when the kernel keeps it.</summary>
    public Option<long> PeakBytes()
    {
        var file = Path.Combine(_path, _v2 ? "memory.peak" : "memory.max_usage_in_bytes");
        try
        {
            return long.TryParse(File.ReadAllText(file).Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var peak) ? peak : Option<long>.None;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return Option<long>.None;
        }
    }

    /// <summary>
    /// Kills every process left in the cgroup (what the child started, even one that left its process group with
    /// setsid) and removes the cgroup once they are gone (retrying briefly while the kernel finishes reaping). Called
    /// once the child itself has exited.
    /// </summary>
    public async Task RemoveAsync()
    {
        for (var attempt = 0; attempt < 50; attempt++)
        {
            KillMembers(_path);
            if (TryRemove(_path))
                return;
            await Task.Delay(20).ConfigureAwait(false);
        }
    }

    /// <summary>The parent cgroup new cgroups are made in, or null when memory limits are unavailable (for tests).</summary>
    internal static string? Root => Parent.Value.Match(parent => parent.Root, _ => (string?)null);

    /// <summary>
    /// Removes the cgroups under <paramref name="root"/> that a process made which is gone: a name of this class's
    /// pattern whose pid does not run, or runs with another start time (a reused pid). Processes still in such a
    /// cgroup are leftovers of the dead parent and are killed first. Any other name, and the cgroups of running
    /// processes, are left alone. Returns the paths removed.
    /// </summary>
    internal static async Task<IReadOnlyList<string>> SweepStaleAsync(string root)
    {
        var removed = new List<string>();
        IEnumerable<string> entries;
        try
        {
            entries = Directory.EnumerateDirectories(root, "nursery-*").ToList();
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return removed;
        }
        foreach (var path in entries)
        {
            var match = OwnName().Match(Path.GetFileName(path));
            if (!match.Success || !int.TryParse(match.Groups["pid"].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var owner))
                continue;
            if (OwnerRuns(owner, match.Groups["start"].Success ? match.Groups["start"].Value : null))
                continue;
            for (var attempt = 0; attempt < 25; attempt++)
            {
                KillMembers(path);
                if (TryRemove(path))
                {
                    removed.Add(path);
                    break;
                }
                await Task.Delay(20).ConfigureAwait(false);
            }
        }
        return removed;
    }

    /// <summary>nursery-pid-start-n (this version), nursery-pid-n (the name without a start time) and nursery-probe-pid.</summary>
    [GeneratedRegex(@"^nursery-(?:probe-(?<pid>[0-9]+)|(?<pid>[0-9]+)-(?:(?<start>[0-9]+)-)?[0-9]+)$", RegexOptions.CultureInvariant)]
    private static partial Regex OwnName();

    /// <summary>Whether the process that made a cgroup still runs: its pid exists and, when the name holds one, with that start time.</summary>
    private static bool OwnerRuns(int pid, string? startTime)
    {
        var now = StartTime(pid);
        return now is not null && (startTime is null || now == startTime);
    }

    /// <summary>Field 22 of /proc/pid/stat (start time in clock ticks since boot), or null when the process is gone.</summary>
    private static string? StartTime(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return fields.Length > 19 && fields[0] is not "Z" and not "X" ? fields[19] : null;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static void KillMembers(string path)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(Path.Combine(path, "cgroup.procs"));
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return;
        }
        foreach (var line in lines)
        {
            if (int.TryParse(line, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && pid > 1 && pid != Environment.ProcessId)
                _ = Launch.Signals.kill(pid, Launch.Signals.SigKill);
        }
    }

    private static bool TryRemove(string path)
    {
        try
        {
            if (Directory.Exists(path))
                Directory.Delete(path);
            return true;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static void TryWrite(string file, string value)
    {
        try
        {
            if (File.Exists(file))
                File.WriteAllText(file, value);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException) { }
    }

    private static Either<string, (string Root, bool V2)> FindParent()
    {
        if (!OperatingSystem.IsLinux())
            return "memory limits need Linux cgroups";
        string[] lines;
        try
        {
            lines = File.ReadAllLines("/proc/self/cgroup");
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return $"cannot read /proc/self/cgroup: {exception.Message}";
        }
        foreach (var line in lines)
        {
            var parts = line.Split(':', 3);
            if (parts.Length == 3 && parts[1].Split(',').Contains("memory"))
                return Probe(Path.Combine("/sys/fs/cgroup/memory", parts[2].TrimStart('/')), v2: false);
        }
        foreach (var line in lines)
        {
            var parts = line.Split(':', 3);
            if (parts.Length == 3 && parts[0] == "0" && parts[1].Length == 0 && File.Exists("/sys/fs/cgroup/cgroup.controllers"))
                return Probe(Path.Combine("/sys/fs/cgroup", parts[2].TrimStart('/')), v2: true);
        }
        return "no memory cgroup controller is mounted";
    }

    private static Either<string, (string Root, bool V2)> Probe(string root, bool v2)
    {
        var probe = Path.Combine(root, $"nursery-probe-{Environment.ProcessId}");
        try
        {
            Directory.CreateDirectory(probe);
            var limitFile = Path.Combine(probe, v2 ? "memory.max" : "memory.limit_in_bytes");
            if (!File.Exists(limitFile))
                return $"the cgroup {root} has no memory controller enabled for its children";
            return (root, v2);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return $"the memory cgroup {root} is not writable ({exception.Message}); run as root or delegate the cgroup to this user";
        }
        finally
        {
            TryRemove(probe);
        }
    }
}
