using Nursery.Launch;
using Nursery.Supervision;

namespace Nursery.Commands;

/// <summary>
/// Starts any program safely as a child: never through a shell's parsing (arguments go as a list), in a session and
/// process group of its own, with a parent-death signal and, under a memory limit, inside its cgroup before the
/// program's first instruction.
/// </summary>
/// <remarks>
/// With setsid at hand the program runs under a small POSIX sh, the group's leader (<see cref="Keeper"/>): started
/// through <c>setpriv --pdeathsig TERM</c>, it traps that signal and kills the whole group, so whatever the program
/// started goes with it when this process dies, even by SIGKILL. The program is the keeper's only job; its exit status
/// is the keeper's.
/// </remarks>
internal static class CommandLaunch
{
    private const string Setpriv = "/usr/bin/setpriv";
    private const string Shell = "/bin/sh";
    public const string Setsid = "/usr/bin/setsid";
    private static readonly bool HasSetpriv = OperatingSystem.IsLinux() && File.Exists(Setpriv);
    public static readonly bool HasSetsid = OperatingSystem.IsLinux() && File.Exists(Setsid);

    /// <summary>
    /// The group leader's script: on SIGTERM (the parent-death signal) kill the group, itself included; run the
    /// program in the background with the real stdin (sh gives a background job /dev/null otherwise) and wait for it,
    /// since a trap waits for a foreground job to end but interrupts <c>wait</c>; leave with its status.
    /// </summary>
    public const string Keeper = "trap 'kill -s KILL -- -$$' TERM; exec 3<&0; \"$@\" 0<&3 3<&- & wait $!; exit $?";

    /// <summary>The keeper's first step under a memory limit: move itself into the cgroup named by its first argument (the program and its children follow).</summary>
    private const string IntoCgroup = "echo $$ > \"$1\" || exit 2; shift; ";

    /// <summary>
    /// Set to C for the wrappers alone when neither this process nor the command sets it: setpriv and setsid call
    /// setlocale, which under a UTF-8 <c>LANG</c> without a locale archive opens a dozen locale files in each of them;
    /// the keeper unsets it before starting the program, which sees the environment it would have had.
    /// </summary>
    private const string LocaleVariable = "LC_ALL";

    /// <summary>The keeper's first step when it runs under <see cref="LocaleVariable"/>=C that only the wrappers were meant to see.</summary>
    private const string UnsetLocale = "unset LC_ALL; ";

    /// <summary>The keeper's name in ps ($0).</summary>
    public const string KeeperName = "nursery-command";

    public static LaunchSpec Build(string executable, IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string> environment, string workingDirectory, MemoryCgroup? cgroup)
    {
        var chain = new List<string>();
        if (HasSetpriv)
            chain.AddRange(["--pdeathsig", HasSetsid ? "TERM" : "KILL", "--"]);
        var plainLocale = HasSetsid && !environment.ContainsKey(LocaleVariable) && Environment.GetEnvironmentVariable(LocaleVariable) is null;
        if (plainLocale)
            environment = new Dictionary<string, string>(environment) { [LocaleVariable] = "C" };
        if (HasSetsid)
        {
            chain.AddRange([Setsid, Shell, "-c", (plainLocale ? UnsetLocale : "") + (cgroup is null ? Keeper : IntoCgroup + Keeper), KeeperName]);
            if (cgroup is not null)
                chain.Add(cgroup.ProcessesFile);
        }
        else if (cgroup is not null)
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
