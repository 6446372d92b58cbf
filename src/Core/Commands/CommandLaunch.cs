using Nursery.Launch;
using Nursery.Supervision;

namespace Nursery.Commands;

/// <summary>
/// Starts any program safely as a child: never through a shell's parsing (arguments go as a list), with a
/// parent-death signal (<c>setpriv --pdeathsig KILL</c>) and, under a memory limit, inside its cgroup before the
/// program's first instruction (a one-line <c>sh</c> that moves itself, then <c>exec</c>s the program with "$@").
/// </summary>
internal static class CommandLaunch
{
    private const string Setpriv = "/usr/bin/setpriv";
    private const string Shell = "/bin/sh";
    public const string Setsid = "/usr/bin/setsid";
    private static readonly bool HasSetpriv = OperatingSystem.IsLinux() && File.Exists(Setpriv);
    public static readonly bool HasSetsid = OperatingSystem.IsLinux() && File.Exists(Setsid);

    public static LaunchSpec Build(string executable, IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string> environment, string workingDirectory, MemoryCgroup? cgroup)
    {
        var chain = new List<string>();
        if (HasSetpriv)
            chain.AddRange(["--pdeathsig", "KILL", "--"]);
        if (HasSetsid)
            chain.Add(Setsid);
        if (cgroup is not null)
            chain.AddRange([Shell, "-c", "echo $$ > \"$0\" && exec \"$@\"", cgroup.ProcessesFile]);
        chain.Add(executable);
        chain.AddRange(arguments);
        var program = HasSetpriv ? Setpriv : chain[0];
        var rest = HasSetpriv ? chain : chain.Skip(1).ToList();
        return new LaunchSpec(program, rest, environment, workingDirectory.Length == 0 ? Environment.CurrentDirectory : workingDirectory, OwnProcessGroup: HasSetsid);
    }

    /// <summary>Why an executable cannot be started, checked before anything is spawned (wrappers hide exec errors).</summary>
    public static LanguageExt.Option<string> Preflight(string executable)
    {
        if (executable.Contains('/', StringComparison.Ordinal))
            return File.Exists(executable) ? LanguageExt.Option<string>.None : $"the executable '{executable}' does not exist; check the path";
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        foreach (var directory in path.Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            if (File.Exists(Path.Combine(directory, executable)))
                return LanguageExt.Option<string>.None;
        }
        return $"the executable '{executable}' was not found on the PATH ({path}); install it or give its full path";
    }
}
