using System.IO.Pipes;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Nursery.Launch;

/// <summary>
/// A program started with one <see cref="PosixSpawn"/> exec, leader of a session and process group of its own,
/// registered with the <see cref="OrphanGuard"/> while it runs: stdin and stdout are fed and drained by the caller's
/// functions, stderr is kept as lines, and <see cref="Kill"/> kills the whole group.
/// </summary>
/// <remarks>
/// When the program exits, what is left of its group is killed (whatever it started goes with it, and a leftover
/// holding its pipes cannot keep <see cref="Exit"/> waiting), without marking the program as killed by us, so its
/// own exit status is still reported. Every kill by group id happens while the leader is unreaped, so the id is
/// still the group's.
/// </remarks>
internal sealed class SpawnedProcess : IChildProcess
{
    private readonly Lock _gate = new();
    private readonly TaskCompletionSource _abandonPipes = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _leaderExited;
    private int _killRequested;

    private SpawnedProcess(int processId)
    {
        ProcessId = processId;
        Exit = Task.FromResult(new ChildExit(-1, false));
    }

    public int ProcessId { get; }

    public StderrTail Stderr { get; } = new();

    public Task<ChildExit> Exit { get; private set; }

    public bool HasExited => Exit.IsCompleted;

    public bool KillRequested => Volatile.Read(ref _killRequested) == 1;

    /// <summary>
    /// Starts the program (see <see cref="PosixSpawn.Start"/>) on the calling thread and registers its group with the
    /// guard, which must be running. <paramref name="feedStdin"/> writes the program's stdin and closes it by
    /// returning; <paramref name="readStdout"/> reads its stdout to the end.
    /// </summary>
    public static LanguageExt.Either<PosixSpawn.Refused, SpawnedProcess> Start(
        string path,
        IReadOnlyList<string> arguments,
        IReadOnlyList<string> environment,
        string? workingDirectory,
        Func<Stream, CancellationToken, Task> feedStdin,
        Func<Stream, CancellationToken, Task> readStdout,
        Action<string> onStderrLine
    )
    {
        var spawned = PosixSpawn.Start(path, arguments, environment, workingDirectory);
        if (spawned.IsLeft)
            return spawned.Match(_ => default(PosixSpawn.Refused), refused => refused);
        var started = spawned.Match(right => right, _ => default);
        OrphanGuard.Register(started.ProcessId);
        var process = new SpawnedProcess(started.ProcessId);
        var reaped = ExitWatcher.WatchAsync(started.ProcessId, process.KillLeftoversAndForget);
        var stdin = Open(started.Stdin, PipeDirection.Out);
        var stdout = Open(started.Stdout, PipeDirection.In);
        var stderr = Open(started.Stderr, PipeDirection.In);
        // Cancelled when the program has exited: a feed still writing stops.
        var stdinStop = new CancellationTokenSource();
        process.Exit = process.ObserveAsync(reaped, stdinStop, [FeedAsync(stdin, feedStdin, stdinStop.Token), DrainAsync(stdout, readStdout), process.ReadLinesAsync(stderr, onStderrLine)]);
        return process;
    }

    /// <summary>Kills the process group (the program and what it started). Safe to call many times and after exit.</summary>
    public void Kill()
    {
        Volatile.Write(ref _killRequested, 1);
        lock (_gate)
        {
            if (!_leaderExited)
                _ = Signals.kill(-ProcessId, Signals.SigKill);
        }
        _ = AbandonPipesUnlessExitedAsync();
    }

    /// <summary>How long a killed program's pipes may stay open (held by something that left its group) before <see cref="Exit"/> stops waiting for them.</summary>
    private static readonly TimeSpan PipeGrace = TimeSpan.FromSeconds(1);

    private async Task AbandonPipesUnlessExitedAsync()
    {
        if (await Task.WhenAny(Exit, Task.Delay(PipeGrace)).ConfigureAwait(false) != Exit)
            _abandonPipes.TrySetResult();
    }

    /// <summary>On the exit watcher's thread, with the leader exited and not yet reaped.</summary>
    private void KillLeftoversAndForget()
    {
        lock (_gate)
        {
            _leaderExited = true;
            _ = Signals.kill(-ProcessId, Signals.SigKill);
        }
        OrphanGuard.Unregister(ProcessId);
    }

    private async Task<ChildExit> ObserveAsync(Task<int> reaped, CancellationTokenSource stdinStop, Task[] pipes)
    {
        var status = await reaped.ConfigureAwait(false);
        await stdinStop.CancelAsync().ConfigureAwait(false);
        var all = Task.WhenAll(pipes);
        if (await Task.WhenAny(all, _abandonPipes.Task).ConfigureAwait(false) == all)
        {
            try
            {
                await all.ConfigureAwait(false);
            }
            catch (Exception exception)
            {
                Stderr.Add($"[nursery] the child's pipes failed: {exception.GetType().Name}: {exception.Message}");
                return new ChildExit(-1, KillRequested);
            }
            finally
            {
                stdinStop.Dispose();
            }
        }
        return new ChildExit(status, KillRequested);
    }

    private static async Task FeedAsync(Stream stdin, Func<Stream, CancellationToken, Task> feedStdin, CancellationToken stop)
    {
        try
        {
            await feedStdin(stdin, stop).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is IOException or OperationCanceledException)
        {
            // The program closed its stdin or ended without reading all of it.
        }
        finally
        {
            try
            {
                await stdin.DisposeAsync().ConfigureAwait(false);
            }
            catch (IOException)
            {
                // As above.
            }
        }
    }

    private static async Task DrainAsync(Stream stdout, Func<Stream, CancellationToken, Task> readStdout)
    {
        await using (stdout.ConfigureAwait(false))
            await readStdout(stdout, CancellationToken.None).ConfigureAwait(false);
    }

    private async Task ReadLinesAsync(Stream stderr, Action<string> onLine)
    {
        using var reader = new StreamReader(stderr, Encoding.UTF8);
        while (await reader.ReadLineAsync().ConfigureAwait(false) is { } line)
        {
            Stderr.Add(line);
            onLine(line);
        }
    }

    /// <summary>
    /// One end of a pipe as a stream whose asynchronous reads and writes wait in the runtime's socket engine (epoll), as
    /// <see cref="System.Diagnostics.Process"/>'s do, not on a pool thread: a program waiting for its stdin while the pool's
    /// threads all sat in blocking reads of other programs' stdout and stderr would wait for the pool to grow.
    /// </summary>
    private static AnonymousPipeClientStream Open(int fd, PipeDirection direction) => new(direction, new SafePipeHandle(fd, ownsHandle: true));
}
