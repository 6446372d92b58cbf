using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using CliWrap;
using LanguageExt;
using Nursery.Launch;

namespace Nursery;

/// <summary>
/// A Slurm allocation (<c>salloc --no-shell</c>) whose <see cref="Launcher"/> runs each child as a step inside it
/// (<c>srun --jobid … --exact</c>): one scheduling round for many children. <see cref="DisposeAsync"/> releases it
/// (<c>scancel</c>), which ends every step still running in it.
/// </summary>
public sealed partial class SlurmAllocation : IAsyncDisposable
{
    private SlurmAllocation(string jobId, SlurmLauncher launcher)
    {
        JobId = jobId;
        Launcher = launcher with { Allocation = jobId };
    }

    /// <summary>The allocation's job id.</summary>
    public string JobId { get; }

    /// <summary>The launcher that starts children as steps of this allocation.</summary>
    public SlurmLauncher Launcher { get; }

    /// <summary>
    /// Asks Slurm for <paramref name="tasks"/> task slots of <paramref name="memoryPerTaskMebibytes"/> MiB each, named by
    /// the launcher's run id and bounded by its time limit, waiting at most <paramref name="wait"/> for them. Returns the
    /// allocation, or why Slurm refused it.
    /// </summary>
    public static async Task<Either<string, SlurmAllocation>> CreateAsync(SlurmLauncher launcher, int tasks, int memoryPerTaskMebibytes, TimeSpan wait, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(launcher);
        ArgumentOutOfRangeException.ThrowIfLessThan(tasks, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(memoryPerTaskMebibytes, 1);
        var arguments = new List<string>
        {
            "--no-shell",
            string.Create(CultureInfo.InvariantCulture, $"--ntasks={tasks}"),
            string.Create(CultureInfo.InvariantCulture, $"--mem-per-cpu={memoryPerTaskMebibytes}M"),
            $"--job-name={launcher.RunId}",
            string.Create(CultureInfo.InvariantCulture, $"--time={(long)Math.Ceiling(launcher.TimeLimit.TotalMinutes)}"),
            string.Create(CultureInfo.InvariantCulture, $"--immediate={Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds))}"),
        };
        if (launcher.Partition.Length > 0)
            arguments.Add($"--partition={launcher.Partition}");
        arguments.AddRange(launcher.ExtraArguments);
        var output = new StringBuilder();
        try
        {
            var started = await Spawner
                .RunAsync(() => Cli.Wrap(launcher.SallocExecutable).WithArguments(arguments).WithValidation(CommandResultValidation.None).WithStandardOutputPipe(PipeTarget.ToStringBuilder(output)).WithStandardErrorPipe(PipeTarget.ToStringBuilder(output)).ExecuteAsync(cancellationToken))
                .ConfigureAwait(false);
            var result = await started.Task.ConfigureAwait(false);
            var granted = Granted().Match(output.ToString());
            if (result.ExitCode == 0 && granted.Success)
                return new SlurmAllocation(granted.Groups[1].Value, launcher);
            return $"salloc exited {result.ExitCode}: {output.ToString().Trim()}";
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            return $"salloc could not run: {exception.Message} (SlurmLauncher.SallocExecutable)";
        }
    }

    /// <summary>Releases the allocation (<c>scancel</c>): every step still in it ends. Never throws.</summary>
    public async ValueTask DisposeAsync() => await Launcher.CancelJobAsync(JobId).ConfigureAwait(false);

    [GeneratedRegex(@"Granted job allocation (\d+)")]
    private static partial Regex Granted();
}
