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
/// paths on the hosts (or set <see cref="RemoteHost"/>).
/// </summary>
public sealed record SshLauncher : Launcher
{
    private readonly Counter _next = new();

    /// <summary>The hosts, used in turn: names ssh understands (host, user@host, an alias from ~/.ssh/config).</summary>
    public IReadOnlyList<string> Hosts { get; init; } = [];

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

    internal override bool IsRemote => true;

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
        if (options.MemoryLimit > 0)
            throw new ArgumentException("WorkerOptions.MemoryLimit is not enforced over ssh (the memory cgroup would be made on this machine); run the stage through SlurmLauncher, whose steps get --mem, or set it to 0.", nameof(options));
    }

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
            arguments.AddRange(["-o", "ControlMaster=auto", "-o", $"ControlPath={ControlDirectory()}/%C", "-o", string.Create(CultureInfo.InvariantCulture, $"ControlPersist={seconds}")]);
        }
        arguments.Add(host);
        arguments.Add(RemoteCommand(child));
        // ssh's own environment stays ours; the child's variables travel in the remote command.
        return new LaunchSpec(SshExecutable, arguments, new Dictionary<string, string>(), child.WorkingDirectory) { Remote = remote, ParentDeathSignal = true };
    }

    /// <summary>
    /// One line for the remote login shell: a POSIX sh that runs the child with its variables and reports a death by
    /// signal on stderr with the plain exit status 128+n (ssh alone turns any remote signal into 255, like a
    /// connection error).
    /// </summary>
    private static string RemoteCommand(LaunchSpec child)
    {
        var script = new StringBuilder();
        script.Append("cd ").Append(Quote(child.WorkingDirectory)).Append(" 2>/dev/null; env");
        foreach (var (name, value) in child.Environment)
            script.Append(' ').Append(Quote($"{name}={value}"));
        script.Append(' ').Append(Quote(child.Executable));
        foreach (var argument in child.Arguments)
            script.Append(' ').Append(Quote(argument));
        script.Append("; s=$?; if [ $s -gt 128 ]; then echo \"nursery: the child was killed by signal $((s - 128)) on $(hostname)\" >&2; fi; exit $s");
        return "sh -c " + Quote(script.ToString());
    }

    private static string Quote(string text) => "'" + text.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    private static string ControlDirectory()
    {
        var directory = Path.Combine(Path.GetTempPath(), $"nursery-ssh-{Environment.ProcessId}");
        Directory.CreateDirectory(directory);
        return directory;
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
