using System.Buffers;
using LanguageExt;
using Nursery.Launch;
using Nursery.Protocol;

namespace Nursery.Supervision;

/// <summary>The binary frame protocol spoken with Nursery.ChildHost: hello, init, ready, batched requests and replies.</summary>
internal sealed class FrameWire(WorkerOptions options, InitMessage init, bool stopsItems = false) : Wire
{
    /// <summary>Whether the body takes a cancellation token: then the child is asked to stop an item before it is killed.</summary>
    public override bool StopsItems => stopsItems;

    public override void WriteStops(FrameBuffer buffer, IReadOnlyList<long> ids) => Batch.EncodeStops(buffer, ids);

    /// <summary>
    /// The descriptor the child host is asked to move the protocol channel to, named in its environment from the start
    /// so the host need not set the variable itself (it does when that descriptor is taken). Below 64, the size of a
    /// process's first descriptor table.
    /// </summary>
    private const string DescriptorVariable = "NURSERY_PROTOCOL_FD", ProposedDescriptor = "63";

    private readonly TaskCompletionSource<byte[]> _initFrame = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _gate = new();
    private ProgressSlot? _progress;
    private bool _released;
    private RemoteLaunch? _remote;

    /// <summary>A remote child is never moved into a cgroup on this machine (its launcher limits its memory, if it can).</summary>
    public override bool PlacesItselfInCgroup => options.Launcher.IsRemote;

    public override Option<string> Preflight() =>
        options.Launcher.IsRemote ? options.Launcher.Preflight()
        : File.Exists(options.Host.HostAssembly)
            ? Commands.CommandLaunch.Preflight(options.Host.DotnetExecutable).Map(reason => $"cannot start the child host: {reason} (WorkerOptions.Host.DotnetExecutable)")
            : $"the child host was not found at '{options.Host.HostAssembly}'. Reference the Nursery.Dataflow package (or the Nursery.ChildHost project) so the host is copied next to your application, or set WorkerOptions.Host to where it is.";

    public override LaunchSpec Launch(IReadOnlyDictionary<string, string> environment, MemoryCgroup? cgroup)
    {
        if (options.Launcher.IsRemote)
            return LaunchRemote(environment);
        // A progress slot is memory shared on this machine: only a local child can map it.
        lock (_gate)
        {
            if (!_released && options.BatchReplies)
                _progress ??= ProgressSlot.Create();
        }
        // The Init goes with the spawn, so the child finds it waiting when its hello is out instead of waiting a round
        // trip for it. Not when the child must first be moved into its memory cgroup (done when its hello names its
        // pid): the body's assembly and initializer must be loaded under the limit.
        if (cgroup is null)
            QueueInit();
        // The host makes itself a session and process group leader first thing (NURSERY_SETSID), instead of being
        // started through /usr/bin/setsid: one exec fewer per child. Killed before it got there, it has
        // no group yet, and the kill falls back to the process and its tree (ChildProcess.Kill).
        if (!OperatingSystem.IsLinux())
            return new(options.Host.DotnetExecutable, [options.Host.HostAssembly], environment, Environment.CurrentDirectory);
        var own = new Dictionary<string, string>(environment) { ["NURSERY_SETSID"] = "1", [DescriptorVariable] = ProposedDescriptor };
        return new(options.Host.DotnetExecutable, [options.Host.HostAssembly], own, Environment.CurrentDirectory, OwnProcessGroup: true);
    }

    public override bool CarriesTraceContext => true;

    public override void WriteTraceContexts(FrameBuffer buffer, IReadOnlyList<ItemTraceContext> contexts) => TraceFrames.WriteContexts(buffer, contexts);

    public override ChildProgress Progress()
    {
        lock (_gate)
            return _progress?.Read() ?? default;
    }

    public override void Started()
    {
        lock (_gate)
            _progress?.Unlink();
    }

    public override void Release()
    {
        lock (_gate)
        {
            _released = true;
            _progress?.Dispose();
            _progress = null;
        }
    }

    /// <summary>
    /// The child as the remote side runs it: dotnet and the host at the launcher's paths, without the local parent's pid
    /// (its parent there is srun's or sshd's) and with the silence timeout after which it leaves.
    /// </summary>
    private LaunchSpec LaunchRemote(IReadOnlyDictionary<string, string> environment)
    {
        var launcher = options.Launcher;
        var host = launcher.HostFor(options);
        var remoteEnvironment = environment.Where(pair => pair.Key != "NURSERY_PARENT_PID").ToDictionary(pair => pair.Key, pair => pair.Value);
        remoteEnvironment[DescriptorVariable] = ProposedDescriptor;
        remoteEnvironment["NURSERY_PARENT_SILENCE_MS"] = ((long)launcher.ParentSilenceTimeout.TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
        _remote = new RemoteLaunch(launcher, options.KillGrace > TimeSpan.Zero ? options.KillGrace : TimeSpan.FromSeconds(1));
        return launcher.Wrap(new LaunchSpec(host.DotnetExecutable, [host.HostAssembly], remoteEnvironment, Environment.CurrentDirectory), options, _remote);
    }

    /// <summary>Encodes the Init frame (with the progress slot's path, if there is one) for <see cref="GreetAsync"/> to write.</summary>
    private void QueueInit()
    {
        string? progressPath;
        lock (_gate)
            progressPath = _progress?.Path;
        using var frame = new FrameBuffer();
        frame.WriteFrame(FrameKind.Init, ProtocolJson.Encode(init with { ProgressPath = progressPath, MaxResultBytes = options.MaxResultBytes }));
        _initFrame.TrySetResult(frame.WrittenSpan.ToArray());
    }

    public override async Task<bool> GreetAsync(Stream stdin, CancellationToken cancellationToken)
    {
        byte[] frame;
        try
        {
            frame = await _initFrame.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        await stdin.WriteAsync(frame, cancellationToken).ConfigureAwait(false);
        await stdin.FlushAsync(cancellationToken).ConfigureAwait(false);
        if (_remote is not null && stdin is SerializedStream channel)
            _ = RemoteLaunch.SendHeartbeatsAsync(channel, options.HeartbeatInterval);
        return true;
    }

    public override void Abandon() => _initFrame.TrySetCanceled();

    public override int BeginBatch(FrameBuffer buffer) => Batch.BeginBatch(buffer, FrameKind.Request);

    public override void WriteItem(FrameBuffer buffer, PendingItem item)
    {
        buffer.WriteInt64(item.Id);
        var lengthAt = buffer.ReserveUInt32();
        var start = buffer.Length;
        item.WriteInput(buffer);
        buffer.PatchUInt32(lengthAt, (uint)(buffer.Length - start));
    }

    public override void EndBatch(FrameBuffer buffer, int mark, int count) => Batch.EndBatch(buffer, mark, count);

    public override async Task ReadAsync(Stream stdout, IWireListener listener, CancellationToken cancellationToken)
    {
        if (_remote is not null)
        {
            var checkedStdout = await CheckHelloHeaderAsync(stdout, listener, cancellationToken).ConfigureAwait(false);
            if (checkedStdout is null)
                return;
            stdout = checkedStdout;
        }
        var reader = new FrameReader(stdout, FrameBounds.FromChild(options.MaxResultBytes));
        var replies = new List<ReplyEntry>();
        var spans = new List<ChildSpan>();
        var helloSeen = false;
        var ready = false;
        while (true)
        {
            var read = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            if (read.Status == ReadStatus.End)
                return;
            if (read.Status == ReadStatus.Violation)
            {
                listener.Violation($"the child wrote {read.Detail}", read.BytesSeen);
                return;
            }
            listener.Heard();
            var payload = read.Payload;
            switch (read.Kind)
            {
                case FrameKind.Hello when !helloSeen:
                    if (!ProtocolJson.TryDecode<HelloMessage>(payload, out var hello, out var error) || hello.Magic != ProtocolVersion.Magic)
                    {
                        listener.Violation($"the child's first frame is not a Nursery hello ({(error.Length > 0 ? error : "wrong magic")})", Head(payload));
                        return;
                    }
                    if (hello.Version != ProtocolVersion.Current)
                    {
                        listener.Incompatible($"the child host speaks protocol version {hello.Version}, this library speaks {ProtocolVersion.Current}; use the Nursery.ChildHost that ships with this version of Nursery");
                        return;
                    }
                    helloSeen = true;
                    _remote?.Identify(hello.Host, hello.ProcessId, hello.JobId);
                    if (!listener.Hello(hello.ProcessId))
                        return;
                    if (!_initFrame.Task.IsCompleted)
                        QueueInit();
                    break;
                case FrameKind.Ready when helloSeen && !ready:
                    ready = true;
                    listener.Ready();
                    break;
                case FrameKind.Error when helloSeen:
                    var message = ProtocolJson.TryDecode<ErrorMessage>(payload, out var decoded, out var decodeError)
                        ? decoded
                        : new ErrorMessage("start", new RemoteError("Nursery.UnreadableError", decodeError, "", []));
                    listener.Failed(message.Phase, message.Error);
                    break;
                case FrameKind.Reply when ready:
                    replies.Clear();
                    if (!Batch.TryDecodeReplies(payload, replies, out var violation))
                    {
                        listener.Violation($"the child sent {violation}", Head(payload));
                        return;
                    }
                    if (AllResults(replies))
                    {
                        if (!listener.Results(replies))
                            return;
                        break;
                    }
                    foreach (var reply in replies)
                    {
                        var go = reply.Status == ReplyStatus.Ok
                            ? listener.Result(reply.Id, reply.Payload)
                            : listener.Error(reply.Id, ProtocolJson.TryDecode<RemoteError>(reply.Payload, out var remote, out var remoteError) ? remote : new RemoteError("Nursery.UnreadableError", remoteError, "", []));
                        if (!go)
                            return;
                    }
                    break;
                case FrameKind.Heartbeat when helloSeen:
                    break;
                case FrameKind.Spans when ready:
                    spans.Clear();
                    if (!TraceFrames.TryDecodeSpans(payload, spans))
                    {
                        listener.Violation("the child sent a malformed Spans frame", Head(payload));
                        return;
                    }
                    listener.Spans(spans);
                    break;
                default:
                    listener.Violation($"the child sent a {read.Kind} frame where none was expected (hello seen: {helloSeen}, ready: {ready})", Head(payload));
                    return;
            }
        }
    }

    private static bool AllResults(List<ReplyEntry> replies)
    {
        foreach (var reply in replies)
        {
            if (reply.Status != ReplyStatus.Ok)
                return false;
        }
        return true;
    }

    /// <summary>
    /// Before a remote child's hello, a login script, a message of the day or a terminal may write to the channel. The
    /// first five bytes must be a hello frame's header (a small length, the hello kind), or the start fails at once
    /// with the bytes seen, instead of the reader waiting for a frame whose length is made of text. Returns the stream
    /// to read frames from (the checked bytes put back), or null after reporting the violation or the end.
    /// </summary>
    private async Task<Stream?> CheckHelloHeaderAsync(Stream stdout, IWireListener listener, CancellationToken cancellationToken)
    {
        var header = new byte[FrameParser.HeaderLength];
        var count = 0;
        while (count < header.Length)
        {
            var read = await stdout.ReadAsync(header.AsMemory(count), cancellationToken).ConfigureAwait(false);
            if (read == 0)
                break;
            count += read;
        }
        if (count == 0)
            return null;
        var length = count == header.Length ? System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(header) : 0;
        if (count < header.Length || length is < 2 or > FrameBounds.MaxHelloPayload + 1 || header[4] != (byte)FrameKind.Hello)
        {
            var seen = header[..count];
            listener.Violation(
                $"the channel to the child ({_remote!.Target}) carried stray bytes before the child's hello ('{System.Text.Encoding.ASCII.GetString(seen.Select(b => b is >= 32 and < 127 ? b : (byte)'.').ToArray())}'): a login script, a message of the day or a terminal wrote to it. Make the remote shell's start-up files print nothing for non-interactive shells, and never give ssh a tty (-t)",
                seen
            );
            return null;
        }
        return new PrefixedStream(header, stdout);
    }

    private static byte[] Head(ReadOnlySequence<byte> payload) => payload.Slice(0, Math.Min(payload.Length, 64)).ToArray();
}
