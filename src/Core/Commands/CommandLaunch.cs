using Nursery.Launch;
using Nursery.Supervision;

namespace Nursery.Commands;

/// <summary>
/// Starts any program safely as a child: never through a shell's parsing (arguments go as a list), in a session and
/// process group of its own, killed with its group when this process dies and, under a memory limit, inside its
/// cgroup before the program's first instruction.
/// </summary>
/// <remarks>
/// Two ways. Directly (<see cref="Direct"/>, on Linux without a memory limit): one <c>posix_spawn</c> of the program
/// itself, its group registered with the <see cref="OrphanGuard"/>. Wrapped (<see cref="Build"/>): with setsid at hand
/// the program runs under a small POSIX sh, the group's leader (<see cref="Keeper"/>): started through
/// <c>setpriv --pdeathsig TERM</c>, it traps that signal and kills the whole group, so whatever the program started goes
/// with it when this process dies, even by SIGKILL. The program is the keeper's only job; its exit status is the
/// keeper's.
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

    /// <summary>
    /// Set to 1 in this process's environment (read once) to start per-item programs through the wrappers of
    /// <see cref="Build"/> even where they could be started directly.
    /// </summary>
    public const string WrappersVariable = "NURSERY_COMMAND_WRAPPERS";

    private static readonly bool WrappersForced = Environment.GetEnvironmentVariable(WrappersVariable) == "1";

    /// <summary>Whether a per-item program can be started with one exec (<see cref="Direct"/>): on Linux with glibc's posix_spawn extensions, and no memory cgroup to enter first.</summary>
    public static bool SpawnsDirectly(MemoryCgroup? cgroup) => cgroup is null && PosixSpawn.Available && !WrappersForced;

    /// <summary>What <see cref="PosixSpawn.Start"/> is given for a program started directly.</summary>
    /// <param name="Path">The file to exec, found as sh would find it; null when it is not on the program's PATH.</param>
    /// <param name="Arguments">argv: the executable as given, then its arguments.</param>
    /// <param name="Environment">This process's environment with <c>environment</c> over it and the guard's mark, as NAME=value.</param>
    /// <param name="WorkingDirectory">The working directory; null for this process's.</param>
    public sealed record DirectLaunch(string? Path, string[] Arguments, string[] Environment, string? WorkingDirectory);

    /// <summary>The program, its argv, its environment and its working directory for a start without wrappers.</summary>
    public static DirectLaunch Direct(string executable, IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string> environment, string workingDirectory)
    {
        var merged = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry entry in Environment.GetEnvironmentVariables())
            merged[(string)entry.Key] = entry.Value as string ?? "";
        foreach (var (name, value) in environment)
            merged[name] = value;
        merged[OrphanGuard.MarkVariable] = OrphanGuard.Mark;
        var directory = workingDirectory.Length == 0 ? null : workingDirectory;
        var path = executable.Contains('/', StringComparison.Ordinal) ? executable : Search(executable, merged.GetValueOrDefault("PATH") ?? "", directory);
        return new DirectLaunch(path, [executable, .. arguments], [.. merged.Select(pair => $"{pair.Key}={pair.Value}")], directory);
    }

    /// <summary>
    /// The program's file as sh's PATH search finds it: the first executable regular file named <paramref name="name"/>
    /// in the directories of <paramref name="path"/> (relative ones from the working directory), else the first such
    /// file at all (its start then fails with EACCES, as sh's does), else null.
    /// </summary>
    private static string? Search(string name, string path, string? workingDirectory)
    {
        string? notExecutable = null;
        foreach (var directory in path.Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = System.IO.Path.Combine(directory, name);
            var file = workingDirectory is null || System.IO.Path.IsPathRooted(candidate) ? candidate : System.IO.Path.Combine(workingDirectory, candidate);
            if (!File.Exists(file))
                continue;
            if (OperatingSystem.IsWindows() || (File.GetUnixFileMode(file) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0)
                return candidate;
            notExecutable ??= candidate;
        }
        return notExecutable;
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
