using System.Globalization;
using System.Text;
using LanguageExt;
using Nursery.Launch;

namespace Nursery;

/// <summary>
/// Runs each child on another machine over ssh (<c>ssh -T -e none -o BatchMode=yes</c>, which carries the binary
/// protocol unchanged), taking <see cref="Hosts"/> in turn. The remote child leaves when its stdin ends or when it
/// hears nothing from this process for <see cref="SilenceTimeout"/>; a child is stopped by closing its stdin, then by
/// SIGTERM and SIGKILL to the ssh process alone. The child host, dotnet and the body's assembly must be at the same
/// paths on the hosts (or set <see cref="RemoteHost"/>). The child's environment variables are written to ssh's stdin
/// ahead of the protocol and read there by the remote command, so they never appear in a command line (ps).
/// </summary>
public sealed record SshLauncher : Launcher
{
    private readonly Counter _next = new();
    private readonly SshControlFolder _controlFolder = new();
    private readonly IReadOnlyList<string> _hosts = [];

    /// <summary>The hosts, used in turn: names ssh understands (host, user@host, an alias from ~/.ssh/config).</summary>
    /// <exception cref="ArgumentException">A host is empty, starts with '-' (ssh would read it as an option) or holds a space or control character.</exception>
    public IReadOnlyList<string> Hosts
    {
        get => _hosts;
        init => _hosts = CheckHosts(value);
    }

    /// <summary>
    /// The hosts, each checked: a name that starts with '-' would reach ssh as an option (<c>-oProxyCommand=…</c> runs
    /// a local command), and one with white space or a control character is no host name.
    /// </summary>
    private static IReadOnlyList<string> CheckHosts(IReadOnlyList<string> hosts)
    {
        ArgumentNullException.ThrowIfNull(hosts, nameof(hosts));
        foreach (var host in hosts)
        {
            if (string.IsNullOrWhiteSpace(host))
                throw new ArgumentException("SshLauncher.Hosts holds an empty host; give host names ssh understands (host, user@host or an alias from ~/.ssh/config).", nameof(hosts));
            if (host.StartsWith('-'))
                throw new ArgumentException($"SshLauncher host '{host}' starts with '-', which ssh would read as an option, not a host; give a host name, user@host or an alias from ~/.ssh/config (ssh options go in SshLauncher.Options).", nameof(hosts));
            if (host.Any(character => char.IsWhiteSpace(character) || char.IsControl(character)))
                throw new ArgumentException($"SshLauncher host '{host}' holds a space or a control character; give a host name, user@host or an alias from ~/.ssh/config.", nameof(hosts));
        }
        return [.. hosts];
    }

    /// <summary>The port (<c>-p</c>); 0 for ssh's default.</summary>
    public int Port { get; init; }

    /// <summary>The login user (<c>-l</c>); empty for ssh's default.</summary>
    public string User { get; init; } = "";

    /// <summary>The private key (<c>-i</c>); empty for ssh's default.</summary>
    public string IdentityFile { get; init; } = "";

    /// <summary>More <c>-o</c> options, as "Name=value" (StrictHostKeyChecking=accept-new, say).</summary>
    public IReadOnlyList<string> Options { get; init; } = [];

    /// <summary>
    /// Share one connection per host between children (ControlMaster, ControlPersist for this long after the last
    /// child): starts cost a round trip instead of a full handshake. Zero for a connection per child.
    /// </summary>
    public TimeSpan ConnectionSharing { get; init; } = TimeSpan.Zero;

    /// <summary>The remote child leaves when no frame (not even a heartbeat) comes from this process for this long.</summary>
    public TimeSpan SilenceTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The ssh executable.</summary>
    public string SshExecutable { get; init; } = "ssh";

    /// <summary>Where the child host and dotnet are on the hosts; None for the same paths as here (<see cref="WorkerOptions.Host"/>).</summary>
    public Option<ChildHostLocation> RemoteHost { get; init; }

    /// <inheritdoc/>
    public override bool IsRemote => true;

    internal override ChildHostLocation HostFor(WorkerOptions options) => RemoteHost.IfNone(options.Host);

    internal override TimeSpan ParentSilenceTimeout => SilenceTimeout;

    internal override void Validate(WorkerOptions options)
    {
        if (Hosts.Count == 0 || Hosts.Any(string.IsNullOrWhiteSpace))
            throw new ArgumentException("SshLauncher.Hosts must list at least one host, none empty.", nameof(options));
        if (Port is < 0 or > 65535)
            throw new ArgumentException($"SshLauncher.Port is {Port}; it must be 0 (ssh's default) or a port number.", nameof(options));
        if (SilenceTimeout < options.HeartbeatInterval * 4)
            throw new ArgumentException($"SshLauncher.SilenceTimeout ({SilenceTimeout}) must be at least four heartbeat intervals ({options.HeartbeatInterval * 4}), or a healthy child would leave.", nameof(options));
        if (ConnectionSharing < TimeSpan.Zero)
            throw new ArgumentException($"SshLauncher.ConnectionSharing is {ConnectionSharing}; it must be zero (off) or positive.", nameof(options));
        if (options.MemoryLimit is not null)
            throw new ArgumentException("WorkerOptions.MemoryLimit is not enforced over ssh (the memory cgroup would be made on this machine); run the stage through SlurmLauncher, whose steps get --mem, or leave it null.", nameof(options));
        var badName = options.Environment.Keys.FirstOrDefault(name => !IsVariableName(name));
        if (badName is not null)
            throw new ArgumentException($"WorkerOptions.Environment names the variable '{badName}', which a POSIX shell cannot export on the ssh host; use letters, digits and '_', not starting with a digit.", nameof(options));
    }

    private static bool IsVariableName(string name) =>
        name.Length > 0 && !char.IsAsciiDigit(name[0]) && name.All(character => char.IsAsciiLetterOrDigit(character) || character == '_');

    internal override Option<string> Preflight() =>
        Commands.CommandLaunch.Preflight(SshExecutable).Map(reason => $"cannot start children over ssh: {reason} (SshLauncher.SshExecutable)");

    internal override LaunchSpec Wrap(LaunchSpec child, WorkerOptions options, RemoteLaunch remote)
    {
        var host = Hosts[(int)((uint)_next.Increment() % (uint)Hosts.Count)];
        remote.Target = host;
        var arguments = new List<string> { "-T", "-e", "none", "-o", "BatchMode=yes", "-o", "ServerAliveInterval=5", "-o", "ServerAliveCountMax=3" };
        if (Port > 0)
            arguments.AddRange(["-p", Port.ToString(CultureInfo.InvariantCulture)]);
        if (User.Length > 0)
            arguments.AddRange(["-l", User]);
        if (IdentityFile.Length > 0)
            arguments.AddRange(["-i", IdentityFile]);
        foreach (var option in Options)
            arguments.AddRange(["-o", option]);
        if (ConnectionSharing > TimeSpan.Zero)
        {
            var seconds = Math.Max(1, (int)Math.Ceiling(ConnectionSharing.TotalSeconds));
            remote.ControlFolderHeld = true;
            arguments.AddRange(["-o", "ControlMaster=auto", "-o", $"ControlPath={_controlFolder.Acquire()}/%C", "-o", string.Create(CultureInfo.InvariantCulture, $"ControlPersist={seconds}")]);
        }
        // The end of ssh's options: the host is never read as one.
        arguments.Add("--");
        arguments.Add(host);
        arguments.Add(RemoteCommand(child));
        // ssh's own environment stays ours; the child's variables go through ssh's stdin, ahead of the protocol.
        return new LaunchSpec(SshExecutable, arguments, new Dictionary<string, string>(), child.WorkingDirectory) { Remote = remote, ParentDeathSignal = true, StdinPrelude = EnvironmentPrelude(child.Environment) };
    }

    /// <summary>The connection-sharing folder in use now, or null (for tests).</summary>
    internal string? ControlFolder => _controlFolder.Path;

    /// <summary>
    /// The child's variables as the remote command reads them from stdin before the protocol starts: a line with the
    /// number of lines that follow, then an <c>export</c> command with each variable quoted for sh (a value may span
    /// lines). sh's <c>read</c> takes its input a byte at a time from a pipe, so not one byte of the protocol after it is
    /// consumed.
    /// </summary>
    internal static byte[] EnvironmentPrelude(IReadOnlyDictionary<string, string> environment)
    {
        var export = environment.Count == 0 ? ":" : "export " + string.Join(' ', environment.Select(pair => Quote($"{pair.Key}={pair.Value}")));
        var lines = export.Count(character => character == '\n') + 1;
        return Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{lines}\n{export}\n"));
    }

    /// <summary>
    /// One line for the remote login shell: a POSIX sh that first reads the child's variables from stdin (see
    /// <see cref="EnvironmentPrelude"/>; leaves quietly if stdin ends first, as the child would), runs the child and
    /// reports a death by signal on stderr with the plain exit status 128+n (ssh alone turns any remote signal into
    /// 255, like a connection error).
    /// </summary>
    private static string RemoteCommand(LaunchSpec child)
    {
        var script = new StringBuilder();
        script.Append("IFS= read -r n || exit 0; e=; while [ \"$n\" -gt 0 ]; do IFS= read -r l || exit 0; e=\"$e$l\n\"; n=$((n - 1)); done; eval \"$e\"; ");
        script.Append("cd ").Append(Quote(child.WorkingDirectory)).Append(" 2>/dev/null; ");
        script.Append(Quote(child.Executable));
        foreach (var argument in child.Arguments)
            script.Append(' ').Append(Quote(argument));
        script.Append("; s=$?; if [ $s -gt 128 ]; then echo \"nursery: the child was killed by signal $((s - 128)) on $(hostname)\" >&2; fi; exit $s");
        return "sh -c " + Quote(script.ToString());
    }

    private static string Quote(string text) => "'" + text.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    /// <summary>The child is gone: its hold on the connection-sharing folder ends.</summary>
    internal override Task AfterExitAsync(RemoteLaunch remote, bool killedByParent)
    {
        if (remote.ControlFolderHeld)
        {
            remote.ControlFolderHeld = false;
            _controlFolder.Release(ConnectionSharing);
        }
        return Task.CompletedTask;
    }

    internal override Option<ChildFailure> Classify(int exitCode, IReadOnlyList<string> stderr, RemoteLaunch remote)
    {
        if (exitCode != 255)
            return Option<ChildFailure>.None;
        var sshLines = stderr.Where(line => line.StartsWith("ssh:", StringComparison.Ordinal) || line.Contains("Permission denied", StringComparison.Ordinal) || line.Contains("Host key verification failed", StringComparison.Ordinal) || line.Contains("Connection", StringComparison.Ordinal)).ToList();
        var said = sshLines.Count > 0 ? string.Join(" | ", sshLines.TakeLast(3)) : "no message";
        return remote.Reached
            ? new ChildFailure.Crashed(255, Option<int>.None, $"ssh lost the connection to {remote.Target} ({said}); the remote child leaves at stdin EOF or after SshLauncher.SilenceTimeout")
            : new ChildFailure.StartFailed($"ssh could not reach {remote.Target} or start the child there (exit 255: {said}); check that 'ssh -o BatchMode=yes {remote.Target} true' works without a password");
    }

    /// <inheritdoc/>
    public override string ToString() => $"ssh ({string.Join(", ", Hosts)})";

    /// <summary>Which host is next; shared by copies of the launcher made with <c>with</c>, ignored by equality.</summary>
    private sealed class Counter
    {
        private int _value = -1;

        public int Increment() => Interlocked.Increment(ref _value);

        public override bool Equals(object? obj) => obj is Counter;

        public override int GetHashCode() => 0;
    }
}
