using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;

namespace Nursery.Launch;

/// <summary>
/// Kills the process groups of the programs this process started with <see cref="PosixSpawn"/> when this process dies,
/// by any cause, SIGKILL included: one small POSIX sh per process (<c>nursery-guard</c> in ps), started lazily through
/// CliWrap on the <see cref="Spawner"/> thread in a session of its own, reads <c>+group</c> and <c>-group</c> lines on
/// its stdin, a pipe whose only writer is this process. At end of file (the kernel closes the pipe when this process
/// dies) it kills every group still registered, and every process whose environment holds this process's
/// <see cref="Mark"/>, and leaves; SIGTERM does the same at once.
/// </summary>
/// <remarks>
/// A group is registered right after its program is spawned and unregistered once its leader has exited and its
/// leftovers were killed, before the leader is reaped (so its id cannot have been reused). If the guard dies while
/// this process lives, a new one is started and every live group registered again. The guard has no parent-death
/// signal: it would arrive with the end of file and could end the guard before it has read the last lines still in
/// the pipe. It leads a session of its own, so a kill of this process's group or a terminal's Ctrl-C leaves it to do
/// its work. A program runs before its <c>+group</c> line can be written (the spawning thread resumes after its exec, and
/// on a busy machine the program may start its own children first): the mark in its environment finds it if this
/// process dies in between. What is not covered: a program still between its spawn and its exec when the guard looks
/// (microseconds, not on this process's time), whose children or group it has not joined either; a process that left
/// the group and cleared its environment; a process forked from this one without exec, which holds the pipe open; and
/// a guard stopped with SIGSTOP, which acts only once continued.
/// </remarks>
internal static class OrphanGuard
{
    /// <summary>
    /// The guard's script: <c>$g</c> holds the registered groups, each between spaces; <c>$1</c> is <see cref="Mark"/>.
    /// At the end, after the registered groups, every process whose environment holds the mark goes too, with its group:
    /// a program this process had started but not yet registered when it died (and what that program started).
    /// </summary>
    private const string Script =
        "g=' '; "
        + "k() { for p in $g; do kill -s KILL -- \"-$p\" 2>/dev/null; done; "
        + "grep -lzxF \"" + MarkVariable + "=$1\" /proc/[0-9]*/environ 2>/dev/null | while read -r f; do p=${f#/proc/}; p=${p%/environ}; kill -s KILL -- \"-$p\" \"$p\" 2>/dev/null; done; }; "
        + "trap 'k; exit 0' TERM; "
        + "while read -r l; do case $l in "
        + "+*) g=\"$g${l#+} \" ;; "
        + "-*) p=${l#-}; case $g in *\" $p \"*) g=\"${g%% $p *} ${g#* $p }\" ;; esac ;; "
        + "esac; done; k";

    /// <summary>The variable in the environment of every program started directly, whose value is <see cref="Mark"/>.</summary>
    public const string MarkVariable = "NURSERY_STARTED_BY";

    /// <summary>This process's mark: its pid and a random number, so that no other process's programs share it.</summary>
    public static readonly string Mark = string.Create(CultureInfo.InvariantCulture, $"{Environment.ProcessId}.{Random.Shared.NextInt64(1L << 62)}");

    /// <summary>The guard's name in ps ($0).</summary>
    public const string Name = "nursery-guard";

    private static readonly Lock Gate = new();
    private static readonly HashSet<int> Groups = [];
    private static Stream? _stdin;
    private static ChildProcess? _guard;
    private static Task<bool>? _starting;

    /// <summary>The running guard's pid; 0 while there is none.</summary>
    internal static int ProcessId
    {
        get
        {
            lock (Gate)
                return _stdin is null ? 0 : _guard?.ProcessId ?? 0;
        }
    }

    /// <summary>Completes with true once a guard runs (started now if there is none), false if none can be started.</summary>
    public static Task<bool> ReadyAsync()
    {
        lock (Gate)
        {
            if (_stdin is not null)
                return Task.FromResult(true);
            return _starting ??= StartAsync();
        }
    }

    /// <summary>Registers the group <paramref name="group"/>, to be killed if this process dies.</summary>
    public static void Register(int group)
    {
        lock (Gate)
        {
            Groups.Add(group);
            Send($"+{group.ToString(CultureInfo.InvariantCulture)}\n");
        }
    }

    /// <summary>Forgets the group <paramref name="group"/>; call while its leader is still unreaped.</summary>
    public static void Unregister(int group)
    {
        lock (Gate)
        {
            if (Groups.Remove(group))
                Send($"-{group.ToString(CultureInfo.InvariantCulture)}\n");
        }
    }

    /// <summary>Writes a line to the guard; a guard that is gone gets nothing (its successor is sent every group).</summary>
    private static void Send(string line)
    {
        if (_stdin is null)
            return;
        try
        {
            _stdin.Write(Encoding.ASCII.GetBytes(line));
            _stdin.Flush();
        }
        catch (Exception exception) when (exception is IOException or ObjectDisposedException)
        {
            // The guard died; its exit starts the next one.
            _stdin = null;
        }
    }

    private static async Task<bool> StartAsync()
    {
        var stdin = new TaskCompletionSource<Stream>(TaskCreationOptions.RunContinuationsAsynchronously);
        var shell = (IReadOnlyList<string>)["/bin/sh", "-c", Script, Name, Mark];
        var spec = Commands.CommandLaunch.HasSetsid
            ? new LaunchSpec(Commands.CommandLaunch.Setsid, shell, new Dictionary<string, string>(), Environment.CurrentDirectory)
            : new LaunchSpec(shell[0], shell.Skip(1).ToList(), new Dictionary<string, string>(), Environment.CurrentDirectory);
        var started = await ChildProcess
            .StartAsync(
                spec,
                async (stream, token) =>
                {
                    stdin.TrySetResult(stream);
                    try
                    {
                        await Task.Delay(Timeout.Infinite, token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        // The guard has exited.
                    }
                },
                async (stream, token) => await stream.CopyToAsync(Stream.Null, token).ConfigureAwait(false),
                _ => { },
                NullLogger.Instance
            )
            .ConfigureAwait(false);
        if (started.IsLeft)
        {
            lock (Gate)
                _starting = null;
            return false;
        }
        var guard = started.Match(process => process, _ => throw new InvalidOperationException());
        var stream = await Task.WhenAny(stdin.Task, guard.Exit).ConfigureAwait(false) == stdin.Task ? await stdin.Task.ConfigureAwait(false) : null;
        lock (Gate)
        {
            _starting = null;
            if (stream is null)
                return false;
            _guard = guard;
            _stdin = stream;
            foreach (var group in Groups)
                Send($"+{group.ToString(CultureInfo.InvariantCulture)}\n");
        }
        _ = ReplaceWhenGoneAsync(guard);
        return true;
    }

    /// <summary>When the guard dies while this process lives, starts the next one, which is sent every live group.</summary>
    private static async Task ReplaceWhenGoneAsync(ChildProcess guard)
    {
        await guard.Exit.ConfigureAwait(false);
        lock (Gate)
        {
            if (ReferenceEquals(_guard, guard))
            {
                _guard = null;
                _stdin = null;
            }
        }
        _ = await ReadyAsync().ConfigureAwait(false);
    }
}
