namespace Nursery.Launch;

/// <summary>How a child process ended.</summary>
/// <param name="ExitCode">The exit status as .NET reports it (128 + n for a signal n); -1 when it was killed by us and not observed.</param>
/// <param name="KilledByParent">Whether this process killed it.</param>
internal sealed record ChildExit(int ExitCode, bool KilledByParent)
{
    /// <summary>What a remote launcher (srun, ssh) said about the child's end, from its exit code and stderr; None for a local child.</summary>
    public LanguageExt.Option<ChildFailure> Verdict { get; init; }

    /// <summary>The signal that ended the child, if its status says one did.</summary>
    public LanguageExt.Option<int> Signal => ExitCode is > 128 and < 128 + 65 ? ExitCode - 128 : LanguageExt.Option<int>.None;
}
