namespace Nursery.Launch;

/// <summary>What to start: an executable, its arguments (never through a shell) and extra environment variables.</summary>
/// <param name="Executable">The program.</param>
/// <param name="Arguments">Its arguments, passed as a list.</param>
/// <param name="Environment">Extra environment variables.</param>
/// <param name="WorkingDirectory">The working directory.</param>
/// <param name="OwnProcessGroup">The command makes itself a process group leader (setsid), so a kill reaches everything it started, even after it exited.</param>
internal sealed record LaunchSpec(string Executable, IReadOnlyList<string> Arguments, IReadOnlyDictionary<string, string> Environment, string WorkingDirectory, bool OwnProcessGroup = false)
{
    /// <summary>The remote child this command starts through a launcher (srun, ssh); null for a local child.</summary>
    public RemoteLaunch? Remote { get; init; }

    /// <summary>Bytes written to the command's stdin before anything else (an ssh child's environment, read by its remote command); empty for none.</summary>
    public byte[] StdinPrelude { get; init; } = [];

    /// <summary>Start the command with a parent-death signal (SIGTERM, through setpriv) so it ends if this process dies.</summary>
    public bool ParentDeathSignal { get; init; }

    public override string ToString() => Arguments.Count == 0 ? Executable : $"{Executable} {string.Join(' ', Arguments)}";
}
