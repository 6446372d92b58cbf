using System.Globalization;
using System.Runtime.InteropServices;

namespace Nursery.Launch;

/// <summary>
/// Kills what the programs this process started with <see cref="PosixSpawn"/> left running when this process dies, by
/// any cause, SIGKILL included: one small POSIX sh per process (<c>nursery-guard</c> in ps), started with
/// <see cref="PosixSpawn"/> in a session of its own, reads lines on its stdin, a pipe whose only writer is this process,
/// each written with one <c>write(2)</c> before the call that sends it returns. At end of file (the kernel closes the
/// pipe when this process dies) it kills, and leaves; SIGTERM does the same at once.
/// </summary>
/// <remarks>
/// <para>
/// The lines: <c>+id</c> once a program is spawned (its id is its pid, its process group's and its session's), and
/// <c>-id</c> once its leader has exited and its leftovers were killed, before the leader is reaped (so the id cannot
/// have been reused). At the end the guard kills, again and again until a whole pass finds nothing alive to kill:
/// every registered group; every process in a registered group or session (a shell with job control puts its jobs in
/// groups of their own, in its session); and every process whose environment holds this process's <see cref="Mark"/>,
/// with its group (a program between its spawn and its registration, a process that left the session and kept its
/// environment). A process forked while a pass runs is found by the next. Then a pass runs every tenth of a second for a
/// second more: a program whose spawn was under way when this process died may still be between its spawn and its exec,
/// where it shows neither its session nor the mark.
/// </para>
/// <para>
/// The line <c>.</c> stops the guard while this process lives: it makes one pass (for the mark: nothing is registered
/// then) and leaves. It is sent when the last user lets go (<see cref="ReleaseAsync"/>) with no program registered.
/// If the guard dies while this process lives, a new one is started and every live group registered again. The guard
/// has no parent-death signal: it would arrive with the end of file and could end the guard before it has read the
/// last lines still in the pipe. It leads a session of its own, so a kill of this process's group or a terminal's
/// Ctrl-C leaves it to do its work. What is not covered: a process that left the session and cleared its environment;
/// a process forked from this one without exec, which holds the pipe open; and a guard stopped with SIGSTOP, which acts
/// only once continued.
/// </para>
/// </remarks>
internal static partial class OrphanGuard
{
    /// <summary>
    /// The guard's script: <c>$g</c> holds the registered ids, each between spaces; <c>$m</c> is <see cref="Mark"/>.
    /// <c>p</c> runs one pass and sets <c>$f</c> when it found a living process to kill (zombies are skipped: a pass would
    /// find them again and again where nothing reaps them); <c>q</c> runs passes until one finds none (at most 100: a
    /// process that cannot die at once, in uninterruptible sleep, still has its SIGKILL).
    /// </summary>
    private const string Script =
        "exec >/dev/null 2>&1; m=$1; g=' '; "
        + "p() { f=; for i in $g; do kill -s KILL -- \"-$i\"; done; "
        + "for s in /proc/[0-9]*/stat; do read -r l < \"$s\" || continue; l=${l##*) }; set -f; set -- $l; set +f; "
        + "case $1 in Z|X) continue ;; esac; "
        + "case $g in *\" $3 \"*|*\" $4 \"*) i=${s#/proc/}; kill -s KILL \"${i%/stat}\"; f=1 ;; esac; done; "
        + "for e in $(grep -lzxF \"" + MarkVariable + "=$m\" /proc/[0-9]*/environ); do i=${e#/proc/}; i=${i%/environ}; kill -s KILL -- \"-$i\" \"$i\"; f=1; done; }; "
        + "q() { r=0; while [ $r -lt 100 ]; do p; [ -n \"$f\" ] || break; r=$((r+1)); done; }; "
        + "k() { q; t=0; while [ $t -lt 10 ]; do sleep 0.1 || sleep 1; q; t=$((t+1)); done; }; "
        + "trap 'k; exit 0' TERM; "
        + "while read -r l; do case $l in "
        + "+*) g=\"$g${l#+} \" ;; "
        + "-*) i=${l#-}; case $g in *\" $i \"*) g=\"${g%% $i *} ${g#* $i }\" ;; esac ;; "
        + ".) q; exit 0 ;; "
        + "esac; done; k";

    /// <summary>The variable in the environment of every program started directly, whose value is <see cref="Mark"/>.</summary>
    public const string MarkVariable = "NURSERY_STARTED_BY";

    /// <summary>
    /// This process's mark: its pid and a random number, so that no other process's programs share it. A guard stopped
    /// on purpose (<see cref="ReleaseAsync"/>) takes its mark with it: the next guard and its programs get a new one, so
    /// the stopped guard's last pass cannot reach them.
    /// </summary>
    public static string Mark => Volatile.Read(ref _mark);

    private static string _mark = NewMark();

    private static string NewMark() => string.Create(CultureInfo.InvariantCulture, $"{Environment.ProcessId}.{Random.Shared.NextInt64(1L << 62)}");

    /// <summary>The guard's name in ps ($0).</summary>
    public const string Name = "nursery-guard";

    private const int Eintr = 4;

    private static readonly Lock Gate = new();
    private static readonly HashSet<int> Groups = [];

    /// <summary>This process's end of the running guard's stdin; -1 while there is none.</summary>
    private static int _stdin = -1;
    private static int _guard;

    /// <summary>The running guard's pid; 0 while there is none.</summary>
    internal static int ProcessId
    {
        get
        {
            lock (Gate)
                return _stdin < 0 ? 0 : _guard;
        }
    }

    /// <summary>How long <see cref="ReleaseAsync"/> waits for a stopped guard to be reaped.</summary>
    private static readonly TimeSpan StopWait = TimeSpan.FromSeconds(5);

    /// <summary>How many users hold the guard (<see cref="Hold"/>); the guard stops when the last lets go.</summary>
    private static int _holders;

    /// <summary>Completes once the running guard has been reaped.</summary>
    private static Task _guardGone = Task.CompletedTask;

    /// <summary>
    /// Holds a guard for a user of direct starts (a per-item runner): true once one runs (started now if there is
    /// none), false if none can be started. Each true is matched by one <see cref="ReleaseAsync"/>.
    /// </summary>
    public static bool Hold()
    {
        lock (Gate)
        {
            if (_stdin < 0 && !StartLocked())
                return false;
            _holders++;
            return true;
        }
    }

    /// <summary>
    /// Lets go of a <see cref="Hold"/>. The last one, with no program registered, stops the guard: it kills, once, what
    /// still carries this process's mark (what a program left outside its group), leaves, and is reaped before this
    /// completes (or <see cref="StopWait"/> passes). No process of Nursery's then outlives the runners that used it.
    /// </summary>
    public static async Task ReleaseAsync()
    {
        Task gone;
        lock (Gate)
        {
            _holders--;
            gone = StopIfUnusedLocked();
        }
        await gone.WaitAsync(StopWait).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    /// <summary>Stops the guard when nobody holds it and no program is registered; the task completes once it is reaped.</summary>
    private static Task StopIfUnusedLocked()
    {
        if (_holders > 0 || Groups.Count > 0 || _stdin < 0)
            return Task.CompletedTask;
        // Not replaced when it exits (ReplaceWhenGoneAsync compares the pid).
        _guard = 0;
        Send(".\n"u8);
        if (_stdin >= 0)
            _ = PosixSpawn.close(_stdin);
        _stdin = -1;
        Volatile.Write(ref _mark, NewMark());
        return _guardGone;
    }

    /// <summary>Registers the group and session <paramref name="group"/>, to be killed if this process dies.</summary>
    public static void Register(int group)
    {
        lock (Gate)
        {
            Groups.Add(group);
            SendId((byte)'+', group);
        }
    }

    /// <summary>Forgets the group <paramref name="group"/>; call while its leader is still unreaped.</summary>
    public static void Unregister(int group)
    {
        lock (Gate)
        {
            if (Groups.Remove(group))
            {
                SendId((byte)'-', group);
                _ = StopIfUnusedLocked();
            }
        }
    }

    private static void SendId(byte sign, int id)
    {
        Span<byte> line = stackalloc byte[16];
        line[0] = sign;
        _ = id.TryFormat(line[1..], out var digits, provider: CultureInfo.InvariantCulture);
        line[1 + digits] = (byte)'\n';
        Send(line[..(digits + 2)]);
    }

    /// <summary>
    /// Writes a line to the guard with one write(2) (a line is far shorter than PIPE_BUF, so it arrives whole); a guard
    /// that is gone gets nothing (its successor is sent every group). Called under <see cref="Gate"/>.
    /// </summary>
    private static unsafe void Send(ReadOnlySpan<byte> line)
    {
        if (_stdin < 0)
            return;
        fixed (byte* bytes = line)
        {
            while (true)
            {
                var written = write(_stdin, bytes, line.Length);
                if (written == line.Length)
                    return;
                if (written < 0 && Marshal.GetLastPInvokeError() == Eintr)
                    continue;
                // EPIPE (the runtime ignores SIGPIPE): the guard died; its exit starts the next one.
                _ = PosixSpawn.close(_stdin);
                _stdin = -1;
                return;
            }
        }
    }

    /// <summary>Starts a guard and sends it every live group; called under <see cref="Gate"/>.</summary>
    private static bool StartLocked()
    {
        var environment = new List<string>();
        foreach (System.Collections.DictionaryEntry entry in Environment.GetEnvironmentVariables())
        {
            if ((string)entry.Key != MarkVariable)
                environment.Add($"{entry.Key}={entry.Value}");
        }
        var started = PosixSpawn.Start("/bin/sh", ["/bin/sh", "-c", Script, Name, Mark], environment, "/");
        if (started.IsLeft)
            return false;
        var guard = started.Match(right => right, _ => default);
        // The script sends its output to /dev/null first thing; these ends are not needed.
        _ = PosixSpawn.close(guard.Stdout);
        _ = PosixSpawn.close(guard.Stderr);
        _guard = guard.ProcessId;
        _stdin = guard.Stdin;
        foreach (var group in Groups)
            SendId((byte)'+', group);
        _guardGone = ReplaceWhenGoneAsync(guard.ProcessId);
        return true;
    }

    /// <summary>When the guard dies while this process lives, starts the next one, which is sent every live group.</summary>
    private static async Task ReplaceWhenGoneAsync(int guard)
    {
        _ = await ExitWatcher.WatchAsync(guard, static () => { }).ConfigureAwait(false);
        lock (Gate)
        {
            if (_guard == guard)
            {
                if (_stdin >= 0)
                    _ = PosixSpawn.close(_stdin);
                _stdin = -1;
                _guard = 0;
                _ = StartLocked();
            }
        }
    }

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial nint write(int fd, byte* buffer, nint count);
}
