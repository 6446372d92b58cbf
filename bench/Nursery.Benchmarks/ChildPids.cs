using System.Globalization;

namespace Nursery.Benchmarks;

/// <summary>
/// Every child pid the harness saw, with the start time /proc gave it, so that at the end a pid reused by some
/// other program on this shared machine is not mistaken for one of ours still running.
/// </summary>
internal sealed class ChildPids
{
    private readonly Lock _gate = new();
    private readonly Dictionary<int, string?> _startTimes = [];

    public void Track(int pid)
    {
        if (pid <= 0)
            return;
        var startTime = ReadStat(pid).StartTime;
        lock (_gate)
            _startTimes.TryAdd(pid, startTime);
    }

    /// <summary>Waits (bounded) until none of the pids is still ours and running, then says what became of each.</summary>
    public async Task<PidCheck> CheckAsync(TimeSpan bound)
    {
        KeyValuePair<int, string?>[] seen;
        lock (_gate)
            seen = [.. _startTimes];
        var deadline = DateTime.UtcNow + bound;
        while (true)
        {
            var states = seen.Select(pair => (Pid: pair.Key, State: Classify(pair.Key, pair.Value))).ToArray();
            var left = states.Where(entry => entry.State != PidState.Gone).ToArray();
            if (left.Length == 0 || DateTime.UtcNow >= deadline)
                return new PidCheck(seen.Length, left.Where(entry => entry.State == PidState.Zombie).Select(entry => entry.Pid).ToArray(), left.Where(entry => entry.State == PidState.Running).Select(entry => entry.Pid).ToArray());
            await Task.Delay(20);
        }
    }

    private static PidState Classify(int pid, string? startTime)
    {
        var (state, now) = ReadStat(pid);
        if (state is null)
            return PidState.Gone;
        if (startTime is not null && now != startTime)
            return PidState.Gone; // the number was reused by a process that is not ours
        return state is 'Z' or 'X' ? PidState.Zombie : PidState.Running;
    }

    /// <summary>The state letter (field 3) and start time in clock ticks (field 22) of /proc/pid/stat, or nulls when the pid does not exist.</summary>
    private static (char? State, string? StartTime) ReadStat(int pid)
    {
        try
        {
            var stat = File.ReadAllText(string.Create(CultureInfo.InvariantCulture, $"/proc/{pid}/stat"));
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (fields[0][0], fields.Length > 19 ? fields[19] : null);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return (null, null);
        }
    }

    private enum PidState
    {
        Gone,
        Zombie,
        Running,
    }
}

/// <summary>What became of the child pids: <see cref="Zombies"/> exited but were not reaped, <see cref="Running"/> still run.</summary>
internal sealed record PidCheck(int Seen, IReadOnlyList<int> Zombies, IReadOnlyList<int> Running)
{
    public bool AllGone => Zombies.Count == 0 && Running.Count == 0;

    public string Summary =>
        AllGone
            ? string.Create(CultureInfo.InvariantCulture, $"{Seen} child pids seen; all gone at the end (no /proc entry, or the number now belongs to another process).")
            : string.Create(CultureInfo.InvariantCulture, $"{Seen} child pids seen; NOT ALL GONE: zombies [{string.Join(", ", Zombies)}], running [{string.Join(", ", Running)}].");
}
