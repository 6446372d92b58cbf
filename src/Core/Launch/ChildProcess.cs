using System.ComponentModel;
using CliWrap;
using LanguageExt;
using Microsoft.Extensions.Logging;

namespace Nursery.Launch;

/// <summary>
/// One child process started through CliWrap: stdin and stdout are the channel (fed and drained by the caller's
/// functions), stderr is kept as lines, and <see cref="Kill"/> ends the whole process tree.
/// </summary>
internal sealed class ChildProcess : IChildProcess
{
    private readonly CancellationTokenSource _kill;
    private readonly Task<ChildExit> _exit;

    private readonly bool _ownProcessGroup;
    private readonly RemoteLaunch? _remote;
    private int _remoteKillRequested;
    private int _killRequested;

    private ChildProcess(int processId, Task<CommandResult> running, StderrTail stderr, Task stderrEnded, CancellationTokenSource kill, bool ownProcessGroup, RemoteLaunch? remote)
    {
        _kill = kill;
        StderrEnded = stderrEnded;
        _ownProcessGroup = ownProcessGroup;
        _remote = remote;
        ProcessId = processId;
        Stderr = stderr;
        _exit = ObserveAsync(running);
        if (ownProcessGroup && remote is null && OperatingSystem.IsLinux())
            _ = KillLeftoversAtExitAsync();
    }

    public int ProcessId { get; }

    public StderrTail Stderr { get; }

    /// <summary>Completes when the process has exited and been reaped and its pipes are closed. Never faults.</summary>
    public Task<ChildExit> Exit => _exit;

    public bool HasExited => _exit.IsCompleted;

    /// <summary>Completes when the child's stderr has reached its end and every line of it has been handled.</summary>
    public Task StderrEnded { get; }

    /// <summary>
    /// How a local child ended, once it has exited and before it is reaped: its wait status as the kernel keeps it for
    /// a zombie (/proc/pid/stat), the same status the reaping behind <see cref="Exit"/> reads, without waiting for the
    /// runtime's exit notification and CliWrap's clean-up. Null while it runs, once it has been reaped, for a remote
    /// child (its end needs the launcher's verdict) and off Linux. <paramref name="reaped"/> says the process is gone
    /// already (reaped, its status out of reach until <see cref="Exit"/> reports it).
    /// </summary>
    public ChildExit? ExitIfEnded(out bool reaped)
    {
        reaped = false;
        if (_remote is not null || !OperatingSystem.IsLinux())
            return null;
        string stat;
        try
        {
            stat = File.ReadAllText($"/proc/{ProcessId}/stat");
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            reaped = exception is FileNotFoundException or DirectoryNotFoundException;
            return null;
        }
        // The fields after the command name: the state is the first, the wait status (exit_code) the 50th.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        if (fields.Length < 50 || fields[0] != "Z" || !int.TryParse(fields[49], System.Globalization.CultureInfo.InvariantCulture, out var status))
            return null;
        var signal = status & 0x7f;
        return new ChildExit(signal == 0 ? (status >> 8) & 0xff : 128 + signal, KillRequested);
    }

    /// <summary>
    /// Starts the process on the spawner thread. <paramref name="feedStdin"/> writes the child's stdin and closes it by returning;
    /// <paramref name="readStdout"/> reads the child's stdout to its end.
    /// </summary>
    public static async Task<Either<string, ChildProcess>> StartAsync(
        LaunchSpec spec,
        Func<Stream, CancellationToken, Task> feedStdin,
        Func<Stream, CancellationToken, Task> readStdout,
        Action<string> onStderrLine,
        ILogger logger
    )
    {
        var stderr = new StderrTail();
        var stderrEnded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var stderrLines = PipeTarget.ToDelegate(line =>
        {
            stderr.Add(line);
            onStderrLine(line);
        });
        var killSource = new CancellationTokenSource();
        if (spec.Remote is not null)
            feedStdin = SerializeStdin(feedStdin, spec.StdinPrelude);
        var (executable, arguments) = spec.ParentDeathSignal && OperatingSystem.IsLinux() && File.Exists(Setpriv)
            ? (Setpriv, (IReadOnlyList<string>)["--pdeathsig", "TERM", "--", spec.Executable, .. spec.Arguments])
            : (spec.Executable, spec.Arguments);
        var command = Cli.Wrap(executable)
            .WithArguments(arguments)
            .WithWorkingDirectory(spec.WorkingDirectory)
            .WithEnvironmentVariables(spec.Environment.ToDictionary(pair => pair.Key, pair => (string?)pair.Value))
            .WithValidation(CommandResultValidation.None)
            .WithStandardInputPipe(PipeSource.Create(feedStdin))
            .WithStandardOutputPipe(PipeTarget.Create(readStdout))
            .WithStandardErrorPipe(
                PipeTarget.Create(async (stream, cancellationToken) =>
                {
                    try
                    {
                        await stderrLines.CopyFromAsync(stream, cancellationToken).ConfigureAwait(false);
                    }
                    finally
                    {
                        stderrEnded.TrySetResult();
                    }
                })
            );
        try
        {
            var started = await Spawner.RunAsync(() => command.ExecuteAsync(killSource.Token)).ConfigureAwait(false);
            return new ChildProcess(started.ProcessId, started.Task, stderr, stderrEnded.Task, killSource, spec.OwnProcessGroup, spec.Remote);
        }
        catch (Exception exception) when (exception is Win32Exception or InvalidOperationException or IOException or UnauthorizedAccessException)
        {
            killSource.Dispose();
            Nursery.Supervision.Log.StartError(logger, exception, spec);
            return $"cannot start '{spec.Executable}': {exception.Message}. Check that it exists, is executable, and that the path is right ({spec}).";
        }
    }

    /// <summary>
    /// Kills what is left of the child's process group without marking the child as killed by us, so its own exit
    /// status is still reported. For processes the child started that outlive it holding its pipes. False if the
    /// child has no group of its own.
    /// </summary>
    public bool KillLeftovers() => _ownProcessGroup && OperatingSystem.IsLinux() && Signals.kill(-ProcessId, Signals.SigKill) == 0;

    /// <summary>
    /// When the child itself has exited (and been reaped), kills what is left of its group: whatever it started goes
    /// with it, and a leftover holding the child's pipes cannot keep <see cref="Exit"/> waiting. The exit is watched on
    /// the process itself (it shares the wait of the <see cref="System.Diagnostics.Process"/> CliWrap started), not
    /// through the pipes, which a leftover may hold.
    /// </summary>
    private async Task KillLeftoversAtExitAsync()
    {
        try
        {
            using var leader = System.Diagnostics.Process.GetProcessById(ProcessId);
            await leader.WaitForExitAsync().ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is ArgumentException or InvalidOperationException or Win32Exception)
        {
            // Already exited and reaped.
        }
        KillLeftovers();
    }

    /// <summary>
    /// Kills the process and everything it started. Safe to call many times and after exit. A remote launcher (srun,
    /// ssh) is signalled alone, SIGTERM then SIGKILL after its grace: killing its tree would take out the helper
    /// through which srun cancels the remote step, and leave the step running.
    /// </summary>
    public void Kill()
    {
        if (_remote is not null)
        {
            if (Interlocked.Exchange(ref _remoteKillRequested, 1) == 0 && !HasExited)
                _ = TerminateLauncherAsync(_remote.TerminateGrace);
            return;
        }
        Volatile.Write(ref _killRequested, 1);
        // The group first: it holds what the child started, which outlives the child if it exited already. It is one
        // kill(2), and it reaches the child itself, so its exit follows at once. CliWrap's own kill walks /proc to find
        // the process tree (slow), and CliWrap reports the exit only once that walk is over (it
        // waits for its cancellation callback), so it is held back: it runs only if the exit has not been observed
        // after a grace, when something that left the group still holds the child's pipes.
        if (KillLeftovers())
            _ = CancelKillUnlessExitedAsync();
        else
            CancelKill();
    }

    /// <summary>How long a child killed through its process group has to be seen exiting before CliWrap's kill runs too.</summary>
    private static readonly TimeSpan TreeKillGrace = TimeSpan.FromSeconds(1);

    private async Task CancelKillUnlessExitedAsync()
    {
        if (await Task.WhenAny(_exit, Task.Delay(TreeKillGrace)).ConfigureAwait(false) != _exit)
            CancelKill();
    }

    private void CancelKill()
    {
        try
        {
            _kill.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Already reaped.
        }
    }

    /// <summary>Whether CliWrap's own kill (the process-tree walk) was asked for.</summary>
    internal bool TreeKillRequested => _kill.IsCancellationRequested;

    public bool KillRequested => Volatile.Read(ref _killRequested) == 1 || _kill.IsCancellationRequested || Volatile.Read(ref _remoteKillRequested) == 1;

    private const string Setpriv = "/usr/bin/setpriv";

    private async Task TerminateLauncherAsync(TimeSpan grace)
    {
        if (!OperatingSystem.IsLinux())
        {
            _kill.Cancel();
            return;
        }
        _ = Signals.kill(ProcessId, Signals.SigTerm);
        if (await Task.WhenAny(_exit, Task.Delay(grace)).ConfigureAwait(false) == _exit)
            return;
        _ = Signals.kill(ProcessId, Signals.SigKill);
        if (await Task.WhenAny(_exit, Task.Delay(TimeSpan.FromSeconds(5))).ConfigureAwait(false) == _exit)
            return;
        // The launcher is gone but something still holds its pipes: let CliWrap give up on them.
        try
        {
            await _kill.CancelAsync().ConfigureAwait(false);
        }
        catch (ObjectDisposedException) { }
    }

    /// <summary>
    /// The remote child's stdin is shared by the items and the parent's heartbeats: one whole write at a time, none
    /// after the items' writer ends. The launcher's prelude goes first, alone.
    /// </summary>
    private static Func<Stream, CancellationToken, Task> SerializeStdin(Func<Stream, CancellationToken, Task> feedStdin, byte[] prelude) =>
        async (stdin, cancellationToken) =>
        {
            if (prelude.Length > 0)
            {
                try
                {
                    await stdin.WriteAsync(prelude, cancellationToken).ConfigureAwait(false);
                    await stdin.FlushAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (IOException)
                {
                    // The launcher is gone already; the feed below finds the channel closed as well.
                }
            }
            var channel = new SerializedStream(stdin);
            try
            {
                await feedStdin(channel, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                await channel.CloseAsync().ConfigureAwait(false);
            }
        };

    private async Task<ChildExit> ObserveAsync(Task<CommandResult> running)
    {
        try
        {
            var result = await running.ConfigureAwait(false);
            var killed = KillRequested;
            if (_remote is null)
                return new ChildExit(result.ExitCode, killed);
            var verdict = killed ? Option<ChildFailure>.None : _remote.Classify(result.ExitCode, Stderr.Snapshot());
            await _remote.Launcher.AfterExitAsync(_remote, killed).ConfigureAwait(false);
            return new ChildExit(result.ExitCode, killed) { Verdict = verdict };
        }
        catch (OperationCanceledException)
        {
            return new ChildExit(-1, true);
        }
        catch (Exception exception)
        {
            // CliWrap surfaces failures of our own pipe functions here; the process is gone either way.
            Stderr.Add($"[nursery] the child's pipes failed: {exception.GetType().Name}: {exception.Message}");
            return new ChildExit(-1, KillRequested);
        }
    }
}
