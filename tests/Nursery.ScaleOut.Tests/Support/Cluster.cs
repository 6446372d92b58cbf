using Nursery.Tests.Support;

namespace Nursery.ScaleOut.Tests.Support;

/// <summary>
/// The single-node Slurm and the sshd on 127.0.0.1 that <c>.ci/cluster-up</c> brings up, read from its state
/// directory (<c>NURSERY_CLUSTER_DIR</c>, default /tmp/nursery-cluster). When one is not up, or does not answer now,
/// its tests skip with the reason.
/// </summary>
public static class Cluster
{
    public static readonly string Directory = Environment.GetEnvironmentVariable("NURSERY_CLUSTER_DIR") is { Length: > 0 } set ? set : "/tmp/nursery-cluster";

    private static readonly Lazy<IReadOnlyDictionary<string, string>> Settings = new(ReadSettings);

    public static readonly Lazy<string?> SlurmUnavailable = new(() => Unavailable("slurm"));

    public static readonly Lazy<string?> SshUnavailable = new(() => Unavailable("ssh"));

    public static string Partition => Settings.Value.GetValueOrDefault("SLURM_PARTITION", "");

    /// <summary>A Slurm launcher for one test: its own run id (job name), short silence timeout.</summary>
    public static SlurmLauncher Slurm(string test) =>
        Launcher.Slurm() with
        {
            Partition = Partition,
            RunId = $"nursery-test-{test}-{Guid.NewGuid().ToString("N")[..6]}",
            TimeLimit = TimeSpan.FromMinutes(5),
            DefaultMemoryMebibytes = 256,
            SilenceTimeout = TimeSpan.FromSeconds(3),
        };

    /// <summary>An ssh launcher to root@127.0.0.1 with the cluster's key.</summary>
    public static SshLauncher Ssh() =>
        Launcher.Ssh(Settings.Value.GetValueOrDefault("SSH_HOST", "127.0.0.1")) with
        {
            Port = int.Parse(Settings.Value.GetValueOrDefault("SSH_PORT", "22"), System.Globalization.CultureInfo.InvariantCulture),
            User = Settings.Value.GetValueOrDefault("SSH_USER", "root"),
            IdentityFile = Settings.Value.GetValueOrDefault("SSH_KEY", ""),
            Options = ["StrictHostKeyChecking=no", "UserKnownHostsFile=/dev/null", "LogLevel=ERROR"],
            SilenceTimeout = TimeSpan.FromSeconds(3),
        };

    public static Launcher Get(string kind, string test) => kind == "slurm" ? Slurm(test) : Ssh();

    /// <summary>
    /// Why the cluster part cannot be used, or null when it is up. The status file says what .ci/cluster-up did, which
    /// can be stale (the daemons stopped by .ci/cluster-down, killed, or gone with a reboot), so a part is up only if it
    /// answers now: <c>scontrol ping</c> and <c>sinfo</c> for Slurm, <c>ssh … true</c> with the cluster's key for ssh.
    /// </summary>
    private static string? Unavailable(string part)
    {
        var statusFile = Path.Combine(Directory, $"{part}.status");
        if (!File.Exists(statusFile))
            return $"{part} is not set up: run 'sudo bash .ci/cluster-up' first (no {statusFile})";
        var status = File.ReadAllText(statusFile).Trim();
        if (status.StartsWith("stopped", StringComparison.Ordinal))
            return $"{part} is not running ({statusFile}: {status})";
        if (status != "up")
            return $".ci/cluster-up could not bring up {part}: {status}";
        return part == "slurm" ? SlurmDoesNotAnswer() : SshDoesNotAnswer();
    }

    private static string? SlurmDoesNotAnswer()
    {
        var ping = Run("scontrol", "ping");
        if (ping.Exit != 0 || !ping.Output.Contains("is UP", StringComparison.Ordinal))
            return $"slurm was up but does not answer now (scontrol ping: {ping.Output.Trim()}); run 'sudo bash .ci/cluster-up' again";
        var node = Run("sinfo", "-h", "-p", Partition, "-o", "%t");
        if (node.Exit != 0 || !node.Output.Split('\n', StringSplitOptions.TrimEntries).Any(state => state is "idle" or "mix" or "alloc" or "comp"))
            return $"slurm answers but partition '{Partition}' has no usable node now (sinfo: {node.Output.Trim()}); run 'sudo bash .ci/cluster-up' again";
        return null;
    }

    private static string? SshDoesNotAnswer()
    {
        var settings = Settings.Value;
        var host = settings.GetValueOrDefault("SSH_HOST", "127.0.0.1");
        var port = settings.GetValueOrDefault("SSH_PORT", "22");
        var probe = Run(
            "ssh", "-T", "-o", "BatchMode=yes", "-o", "ConnectTimeout=5", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
            "-i", settings.GetValueOrDefault("SSH_KEY", ""), "-p", port, "-l", settings.GetValueOrDefault("SSH_USER", "root"), "--", host, "true");
        return probe.Exit == 0 ? null : $"ssh was up but does not answer now (ssh -p {port} {host} true: exit {probe.Exit}, {probe.Output.Trim()}); run 'sudo bash .ci/cluster-up' again";
    }

    private static IReadOnlyDictionary<string, string> ReadSettings()
    {
        var file = Path.Combine(Directory, "cluster.env");
        if (!File.Exists(file))
            return new Dictionary<string, string>();
        return File.ReadAllLines(file).Where(line => line.Contains('=')).ToDictionary(line => line[..line.IndexOf('=')], line => line[(line.IndexOf('=') + 1)..]);
    }

    /// <summary>Runs a command for a check (Slurm's clients, ssh), bounded, without stdin; returns its exit code and output.</summary>
    /// <summary>
    /// What squeue lists under the job name <paramref name="runId"/> once it is empty, or after 10 s: a cancelled job
    /// stays listed (completing, CG) until its node has ended its processes, so an empty queue is waited for.
    /// </summary>
    public static async Task<string> JobsLeftAsync(string runId)
    {
        var listed = "";
        for (var i = 0; i < 100; i++)
        {
            var (exit, output) = Run("squeue", "-h", "-o", "%i %T", $"--name={runId}");
            listed = exit == 0 ? output.Trim() : $"squeue exited {exit}: {output}";
            if (listed.Length == 0)
                return "";
            await Task.Delay(100);
        }
        return listed;
    }

    public static (int Exit, string Output) Run(string program, params string[] arguments)
    {
        try
        {
            var run = ProcessRun.RunAsync(program, arguments, Environment.CurrentDirectory, TimeSpan.FromSeconds(10), closeStdin: true).GetAwaiter().GetResult();
            return run.TimedOut ? (-1, $"{program} did not answer within 10 s") : (run.ExitCode, run.Stdout + run.Stderr);
        }
        catch (System.ComponentModel.Win32Exception exception)
        {
            return (-1, $"{program}: {exception.Message}");
        }
    }

    /// <summary>The launcher process (srun or ssh) this test process started whose command line holds <paramref name="marker"/>.</summary>
    public static IReadOnlyList<int> LaunchersWith(string marker) =>
        [.. Processes.ChildrenOf(Environment.ProcessId).Where(pid => Processes.Describe(pid).Contains(marker, StringComparison.Ordinal))];
}

/// <summary>A fact that skips, with .ci/cluster-up's reason, when the single-node Slurm is not up.</summary>
public sealed class SlurmFactAttribute : FactAttribute
{
    public SlurmFactAttribute()
    {
        if (Cluster.SlurmUnavailable.Value is { } reason)
            Skip = reason;
    }
}

/// <summary>A fact that skips, with .ci/cluster-up's reason, when the sshd on 127.0.0.1 is not up.</summary>
public sealed class SshFactAttribute : FactAttribute
{
    public SshFactAttribute()
    {
        if (Cluster.SshUnavailable.Value is { } reason)
            Skip = reason;
    }
}
