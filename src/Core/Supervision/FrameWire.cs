using System.Buffers;
using LanguageExt;
using Nursery.Launch;
using Nursery.Protocol;

namespace Nursery.Supervision;

/// <summary>The binary frame protocol spoken with Nursery.ChildHost: hello, init, ready, batched requests and replies.</summary>
internal sealed class FrameWire(WorkerOptions options, InitMessage init) : Wire
{
    private readonly TaskCompletionSource<byte[]> _initFrame = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _gate = new();
    private ProgressSlot? _progress;
    private bool _released;

    public override bool PlacesItselfInCgroup => false;

    public override Option<string> Preflight() =>
        File.Exists(options.Host.HostAssembly)
            ? Commands.CommandLaunch.Preflight(options.Host.DotnetExecutable).Map(reason => $"cannot start the child host: {reason} (WorkerOptions.Host.DotnetExecutable)")
            : $"the child host was not found at '{options.Host.HostAssembly}'. Reference the Nursery.Dataflow package (or the Nursery.ChildHost project) so the host is copied next to your application, or set WorkerOptions.Host to where it is.";

    public override LaunchSpec Launch(IReadOnlyDictionary<string, string> environment, MemoryCgroup? cgroup)
    {
        lock (_gate)
        {
            if (!_released && options.BatchReplies)
                _progress ??= ProgressSlot.Create();
        }
        return Commands.CommandLaunch.HasSetsid
            ? new(Commands.CommandLaunch.Setsid, [options.Host.DotnetExecutable, options.Host.HostAssembly], environment, Environment.CurrentDirectory, OwnProcessGroup: true)
            : new(options.Host.DotnetExecutable, [options.Host.HostAssembly], environment, Environment.CurrentDirectory);
    }

    public override (long Id, long Since) Running()
    {
        lock (_gate)
            return _progress?.Running() ?? (0, 0);
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
        var reader = new FrameReader(stdout);
        var replies = new List<ReplyEntry>();
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
                    if (!listener.Hello(hello.ProcessId))
                        return;
                    using (var frame = new FrameBuffer())
                    {
                        string? progressPath;
                        lock (_gate)
                            progressPath = _progress?.Path;
                        frame.WriteFrame(FrameKind.Init, ProtocolJson.Encode(init with { ProgressPath = progressPath }));
                        _initFrame.TrySetResult(frame.WrittenSpan.ToArray());
                    }
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
                case FrameKind.Bye when helloSeen:
                    break;
                case FrameKind.Log when helloSeen:
                    if (ProtocolJson.TryDecode<LogMessage>(payload, out var log, out _))
                        listener.Log(log.Level, log.Text);
                    break;
                default:
                    listener.Violation($"the child sent a {read.Kind} frame where none was expected (hello seen: {helloSeen}, ready: {ready})", Head(payload));
                    return;
            }
        }
    }

    private static byte[] Head(ReadOnlySequence<byte> payload) => payload.Slice(0, Math.Min(payload.Length, 64)).ToArray();
}
