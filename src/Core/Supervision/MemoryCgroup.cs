using System.Globalization;
using LanguageExt;

namespace Nursery.Supervision;

/// <summary>
/// A memory cgroup made for one child: created under this process's own memory cgroup with a limit, the child
/// moved in, its OOM kills counted, removed afterwards. Supports cgroup v1 (memory controller) and v2.
/// </summary>
internal sealed class MemoryCgroup
{
    private static readonly Lazy<Either<string, (string Root, bool V2)>> Parent = new(FindParent);
    private static int _sequence;
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
            var name = $"nursery-{Environment.ProcessId}-{Interlocked.Increment(ref _sequence)}";
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

    /// <summary>Removes the cgroup once its processes are gone (retrying briefly while the kernel finishes reaping).</summary>
    public async Task RemoveAsync()
    {
        for (var attempt = 0; attempt < 50; attempt++)
        {
            if (TryRemove(_path))
                return;
            await Task.Delay(20).ConfigureAwait(false);
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
