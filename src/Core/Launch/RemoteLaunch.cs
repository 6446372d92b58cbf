using LanguageExt;

namespace Nursery.Launch;

/// <summary>
/// One start of a child through a remote launcher: what the child said about itself in its hello (host, pid, Slurm
/// job), the launcher that classifies its end, and the parent's heartbeats that keep the remote child from
/// outliving a silent parent. Created per start by the wire; read by <see cref="ChildProcess"/>.
/// </summary>
internal sealed class RemoteLaunch(Launcher launcher, TimeSpan terminateGrace)
{
    private string _host = "";
    private string _jobId = "";
    private int _processId;

    public Launcher Launcher { get; } = launcher;

    /// <summary>How long the launcher process has after SIGTERM before it gets SIGKILL.</summary>
    public TimeSpan TerminateGrace { get; } = terminateGrace;

    /// <summary>Whether this start holds the ssh launcher's connection-sharing folder (released after the launcher process exits).</summary>
    public bool ControlFolderHeld { get; set; }

    /// <summary>The host the launcher chose (ssh), for messages; empty until chosen.</summary>
    public string Target { get; set; } = "";

    /// <summary>The host the child said it runs on; empty before its hello.</summary>
    public string Host => Volatile.Read(ref _host);

    /// <summary>The Slurm job the child said it runs in; empty before its hello or outside Slurm.</summary>
    public string JobId => Volatile.Read(ref _jobId);

    /// <summary>The child's pid on its host; 0 before its hello.</summary>
    public int ProcessId => Volatile.Read(ref _processId);

    /// <summary>Whether the child said hello (so the channel reached it).</summary>
    public bool Reached => ProcessId > 0;

    public void Identify(string host, int processId, string jobId)
    {
        Volatile.Write(ref _host, host);
        Volatile.Write(ref _jobId, jobId);
        Volatile.Write(ref _processId, processId);
    }

    /// <summary>Where the child runs, for messages: "pid 123 on node7 (Slurm job 42)".</summary>
    public string Describe()
    {
        var where = Host.Length > 0 ? Host : Target;
        var text = ProcessId > 0 ? $"pid {ProcessId}" : "the child";
        if (where.Length > 0)
            text += $" on {where}";
        if (JobId.Length > 0)
            text += $" (Slurm job {JobId})";
        return text;
    }

    /// <summary>The launcher's verdict on how the child ended, from the launcher's exit code and stderr.</summary>
    public Option<ChildFailure> Classify(int exitCode, IReadOnlyList<string> stderr) => Launcher.Classify(exitCode, stderr, this);

    /// <summary>
    /// Writes a heartbeat frame every <paramref name="interval"/> until the channel closes, so the remote child, which
    /// leaves when it hears nothing for its silence timeout, stays only while this parent is alive and reachable.
    /// </summary>
    public static async Task SendHeartbeatsAsync(SerializedStream channel, TimeSpan interval)
    {
        var frame = new byte[Protocol.FrameParser.HeaderLength];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(frame, 1);
        frame[4] = (byte)Protocol.FrameKind.Heartbeat;
        try
        {
            while (await channel.WaitOrClosedAsync(interval).ConfigureAwait(false))
                await channel.WriteFrameAsync(frame).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is IOException or ObjectDisposedException or OperationCanceledException)
        {
            // The channel is gone; the worker sees the end from the other side.
        }
    }
}
