using LanguageExt;
using Nursery.Launch;

namespace Nursery;

/// <summary>
/// Where a child runs: on this machine (<see cref="Local"/>, the default), in a Slurm step (<see cref="SlurmLauncher"/>)
/// or on another machine over ssh (<see cref="SshLauncher"/>). The protocol, failure values and kill semantics are the
/// same for all; a launcher adds how the child is started, how it is killed and how its end is read.
/// Set it in <see cref="WorkerOptions.Launcher"/> (a stage's <c>StageOptions.Worker</c>).
/// </summary>
public abstract record Launcher
{
    private protected Launcher() { }

    /// <summary>Children run on this machine, as direct child processes (the default).</summary>
    public static Launcher Local { get; } = new LocalLauncher();

    /// <summary>A Slurm launcher: one <c>srun</c> per child, in the default partition, bounded by a one-day <c>--time</c>. Change it with <c>with</c>.</summary>
    public static SlurmLauncher Slurm() => new();

    /// <summary>An ssh launcher over the given hosts, used in turn. Change it with <c>with</c>.</summary>
    /// <exception cref="ArgumentException">No host is given, or a host starts with '-' (ssh would read it as an option) or holds a blank or a control character.</exception>
    public static SshLauncher Ssh(params string[] hosts) =>
        hosts is { Length: > 0 } ? new SshLauncher { Hosts = [.. hosts] } : throw new ArgumentException("Give at least one host, as a name ssh understands (host, user@host or an alias from ~/.ssh/config).", nameof(hosts));

    /// <summary>Whether the child runs behind another program (srun, ssh) rather than as a direct child of this process.</summary>
    public abstract bool IsRemote { get; }

    /// <summary>Where dotnet and the child host are where the child runs: the worker's <see cref="WorkerOptions.Host"/> unless the launcher names its own.</summary>
    internal virtual ChildHostLocation HostFor(WorkerOptions options) => options.Host;

    /// <summary>
    /// Runs when a pool that launched through this launcher has reaped its children (a last layer against a remote
    /// leftover, such as a Slurm step still running under the run's job name). Never throws.
    /// </summary>
    internal virtual Task AfterPoolAsync() => Task.CompletedTask;

    /// <summary>How long a remote child waits without any frame from this process (heartbeats included) before it leaves; infinite for a local child, which has its parent-death signal.</summary>
    internal abstract TimeSpan ParentSilenceTimeout { get; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting out of range, given the worker's options.</summary>
    internal abstract void Validate(WorkerOptions options);

    /// <summary>Why the launcher's own program cannot be started, checked before anything is spawned.</summary>
    internal abstract Option<string> Preflight();

    /// <summary>The command that starts <paramref name="child"/> (the program, arguments and environment meant for the remote side) through this launcher.</summary>
    internal abstract LaunchSpec Wrap(LaunchSpec child, WorkerOptions options, RemoteLaunch remote);

    /// <summary>What the launcher's exit code and stderr say about how the remote child ended; None to let the worker decide as for a local child.</summary>
    internal abstract Option<ChildFailure> Classify(int exitCode, IReadOnlyList<string> stderr, RemoteLaunch remote);

    /// <summary>Runs after the launcher process has been reaped (a last layer against a remote leftover). Never throws.</summary>
    internal virtual Task AfterExitAsync(RemoteLaunch remote, bool killedByParent) => Task.CompletedTask;
}

/// <summary>Children run on this machine as direct child processes.</summary>
internal sealed record LocalLauncher : Launcher
{
    /// <inheritdoc/>
    public override bool IsRemote => false;

    internal override TimeSpan ParentSilenceTimeout => Timeout.InfiniteTimeSpan;

    internal override void Validate(WorkerOptions options) { }

    internal override Option<string> Preflight() => Option<string>.None;

    internal override LaunchSpec Wrap(LaunchSpec child, WorkerOptions options, RemoteLaunch remote) => child;

    internal override Option<ChildFailure> Classify(int exitCode, IReadOnlyList<string> stderr, RemoteLaunch remote) => Option<ChildFailure>.None;

    /// <inheritdoc/>
    public override string ToString() => "Local";
}
