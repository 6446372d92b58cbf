using System.Globalization;
using CliWrap;
using LanguageExt;
using Nursery.Launch;

namespace Nursery;

/// <summary>
/// Runs each child as a Slurm step: <c>srun --unbuffered</c> keeps the remote task's stdin and stdout connected, so
/// the protocol is unchanged. Every step is named <see cref="RunId"/> and bounded by <see cref="TimeLimit"/>; a child
/// is stopped by closing its stdin, then by SIGTERM and SIGKILL to the srun process alone (never its tree: srun's
/// helper cancels the step), then by <c>scancel</c>. A <see cref="WorkerPool{TIn,TOut}"/> calls <see cref="CancelRunAsync"/> when it is disposed.
/// The child host, dotnet and the body's assembly must be at the same paths on the nodes (a shared file system).
/// </summary>
public sealed record SlurmLauncher : Launcher
{
    /// <summary>The partition (<c>--partition</c>); empty for the cluster's default.</summary>
    public string Partition { get; init; } = "";

    /// <summary>The wall-time bound of every step (<c>--time</c>); Slurm ends a step past it, even if this process is stopped. A child that outlives it ends <see cref="ChildFailure.TimedOut"/>.</summary>
    public TimeSpan TimeLimit { get; init; } = TimeSpan.FromDays(1);

    /// <summary>The job name of every step (<c>--job-name</c>); <see cref="CancelRunAsync"/> cancels by it. Unique per launcher by default.</summary>
    public string RunId { get; init; } = $"nursery-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}";

    /// <summary>How long srun may wait for resources before giving up (<c>--immediate</c>); None for half the worker's StartTimeout. With no capacity the child ends <see cref="ChildFailure.StartFailed"/>.</summary>
    public Option<TimeSpan> Immediate { get; init; }

    /// <summary>The memory of a step when <see cref="WorkerOptions.MemoryLimit"/> is null (<c>--mem</c>, MiB); 0 leaves it to the cluster's default (which may be a whole node).</summary>
    public int DefaultMemoryMebibytes { get; init; } = 512;

    /// <summary>An existing allocation (<c>salloc --no-shell</c>) to run steps in (<c>--jobid … --exact</c>), saving a scheduling round per child; empty for a job per child.</summary>
    public string Allocation { get; init; } = "";

    /// <summary>More srun arguments (<c>--cpus-per-task=4</c>, <c>--gres=gpu:1</c>, <c>--account=…</c>).</summary>
    public IReadOnlyList<string> ExtraArguments { get; init; } = [];

    /// <summary>The srun executable.</summary>
    public string SrunExecutable { get; init; } = "srun";

    /// <summary>The salloc executable (for <see cref="SlurmAllocation"/>).</summary>
    public string SallocExecutable { get; init; } = "salloc";

    /// <summary>The scancel executable.</summary>
    public string ScancelExecutable { get; init; } = "scancel";

    /// <summary>Where the child host and dotnet are on the nodes; None for the same paths as here (<see cref="WorkerOptions.Host"/>).</summary>
    public Option<ChildHostLocation> RemoteHost { get; init; }

    /// <summary>The remote child leaves when no frame (not even a heartbeat) comes from this process for this long: a stopped srun cannot keep it alive.</summary>
    public TimeSpan SilenceTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <inheritdoc/>
    public override bool IsRemote => true;

    internal override ChildHostLocation HostFor(WorkerOptions options) => RemoteHost.IfNone(options.Host);

    /// <summary>Cancels what still runs under <see cref="RunId"/> (<see cref="CancelRunAsync"/>).</summary>
    internal override Task AfterPoolAsync() => CancelRunAsync();

    internal override TimeSpan ParentSilenceTimeout => SilenceTimeout;

    internal override void Validate(WorkerOptions options)
    {
        if (TimeLimit < TimeSpan.FromMinutes(1))
            throw new ArgumentException($"SlurmLauncher.TimeLimit is {TimeLimit}; Slurm counts in minutes, so it must be at least one minute.", nameof(options));
        if (string.IsNullOrWhiteSpace(RunId) || RunId.Any(char.IsWhiteSpace))
            throw new ArgumentException($"SlurmLauncher.RunId '{RunId}' must be a non-empty job name without spaces.", nameof(options));
        Immediate.IfSome(value =>
        {
            if (value < TimeSpan.FromSeconds(1))
                throw new ArgumentException($"SlurmLauncher.Immediate is {value}; it must be at least one second.", nameof(options));
        });
        if (SilenceTimeout < options.HeartbeatInterval * 4)
            throw new ArgumentException($"SlurmLauncher.SilenceTimeout ({SilenceTimeout}) must be at least four heartbeat intervals ({options.HeartbeatInterval * 4}), or a healthy child would leave.", nameof(options));
        if (DefaultMemoryMebibytes < 0)
            throw new ArgumentException($"SlurmLauncher.DefaultMemoryMebibytes is {DefaultMemoryMebibytes}; it must be 0 (the cluster's default) or positive.", nameof(options));
    }

    internal override Option<string> Preflight() =>
        Commands.CommandLaunch.Preflight(SrunExecutable).Map(reason => $"cannot start children through Slurm: {reason} (SlurmLauncher.SrunExecutable)");

    internal override LaunchSpec Wrap(LaunchSpec child, WorkerOptions options, RemoteLaunch remote)
    {
        var arguments = new List<string> { "--unbuffered", "--nodes=1", "--ntasks=1", $"--job-name={RunId}", $"--time={FormatTime(TimeLimit)}" };
        if (Partition.Length > 0)
            arguments.Add($"--partition={Partition}");
        var mebibytes = options.MemoryLimit is { } limit ? (limit + (1 << 20) - 1) >> 20 : DefaultMemoryMebibytes;
        if (mebibytes > 0)
            arguments.Add(string.Create(CultureInfo.InvariantCulture, $"--mem={mebibytes}M"));
        if (Allocation.Length > 0)
            arguments.AddRange([$"--jobid={Allocation}", "--exact"]);
        else
        {
            var wait = Immediate.IfNone(() => options.StartTimeout / 2);
            arguments.Add(string.Create(CultureInfo.InvariantCulture, $"--immediate={Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds))}"));
        }
        arguments.AddRange(ExtraArguments);
        arguments.Add(child.Executable);
        arguments.AddRange(child.Arguments);
        // srun hands its own environment to the task; with --unbuffered the task's stdout is a pty, and .NET writes
        // terminal set-up bytes on its first write unless TERM is dumb in srun's own environment.
        var environment = new Dictionary<string, string>(child.Environment) { ["TERM"] = "dumb" };
        return new LaunchSpec(SrunExecutable, arguments, environment, child.WorkingDirectory) { Remote = remote, ParentDeathSignal = true };
    }

    internal override Option<ChildFailure> Classify(int exitCode, IReadOnlyList<string> stderr, RemoteLaunch remote)
    {
        bool Said(string text) => stderr.Any(line => line.Contains(text, StringComparison.OrdinalIgnoreCase));
        if (Said("Out Of Memory") || Said("oom-kill"))
            return new ChildFailure.OutOfMemory(0, Option<long>.None);
        if (Said("DUE TO TIME LIMIT"))
            return new ChildFailure.TimedOut(TimeoutKind.ItemDeadline, TimeLimit);
        if (Said("Unable to allocate resources") || Said("Immediate execution impossible") || Said("Requested node configuration is not available"))
            return new ChildFailure.StartFailed($"Slurm has no capacity for the child (srun exited {exitCode}): {stderr.LastOrDefault(line => line.StartsWith("srun: error", StringComparison.Ordinal)) ?? ""}; add nodes, ask for less (SlurmLauncher.ExtraArguments, MemoryLimit) or wait longer (SlurmLauncher.Immediate)");
        if (!remote.Reached && exitCode != 0)
            return new ChildFailure.StartFailed($"srun exited {exitCode} before the child said hello: {string.Join(" | ", stderr.TakeLast(3))}");
        return Option<ChildFailure>.None;
    }

    internal override async Task AfterExitAsync(RemoteLaunch remote, bool killedByParent)
    {
        // A killed srun normally takes its step with it; if the child had said which job it is in, make sure.
        if (killedByParent && remote.JobId.Length > 0 && Allocation.Length == 0)
            await RunScancelAsync([remote.JobId]).ConfigureAwait(false);
    }

    /// <summary>
    /// Cancels every Slurm job named <see cref="RunId"/> (<c>scancel --name</c>): the last layer against a step left
    /// running, for when the run ends. Never throws; returns scancel's complaint, if any.
    /// </summary>
    public Task<Option<string>> CancelRunAsync() => RunScancelAsync([$"--name={RunId}"]);

    /// <summary>Cancels one job (an allocation, say). Never throws; returns scancel's complaint, if any.</summary>
    internal Task<Option<string>> CancelJobAsync(string jobId) => RunScancelAsync([jobId]);

    private async Task<Option<string>> RunScancelAsync(IReadOnlyList<string> arguments)
    {
        try
        {
            using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            var errors = new System.Text.StringBuilder();
            var started = await Spawner
                .RunAsync(() => Cli.Wrap(ScancelExecutable).WithArguments(arguments).WithValidation(CommandResultValidation.None).WithStandardErrorPipe(PipeTarget.ToStringBuilder(errors)).ExecuteAsync(bound.Token))
                .ConfigureAwait(false);
            var result = await started.Task.ConfigureAwait(false);
            return result.ExitCode == 0 ? Option<string>.None : $"scancel exited {result.ExitCode}: {errors}";
        }
        catch (Exception exception)
        {
            return $"scancel could not run: {exception.Message}";
        }
    }

    private static string FormatTime(TimeSpan limit)
    {
        var minutes = (long)Math.Ceiling(limit.TotalMinutes);
        return minutes.ToString(CultureInfo.InvariantCulture);
    }

    /// <inheritdoc/>
    public override string ToString() => $"Slurm (job name {RunId}{(Partition.Length > 0 ? $", partition {Partition}" : "")}{(Allocation.Length > 0 ? $", allocation {Allocation}" : "")})";
}
