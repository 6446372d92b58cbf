using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using Nursery.Protocol;

namespace Nursery.ChildHost;

/// <summary>
/// The child executable: says hello, loads the body the parent names, runs its initializer, then answers batches of
/// requests one item at a time until stdin ends, on two threads of its own: one reads frames, the main one runs
/// items. Exits at stdin EOF and when its parent dies; what the body started goes with it (<see cref="GroupKeeper"/>).
/// </summary>
internal static class Program
{
    private const int ExitBadStart = 2;
    private const int ExitProtocol = 3;

    private static int Main()
    {
        // Its own session and process group, before any code of the body's can start a process: the parent's kill of
        // the group then reaches whatever the body started. Asked for by a local parent (see FrameWire.Launch).
        if (OperatingSystem.IsLinux() && Environment.GetEnvironmentVariable("NURSERY_SETSID") == "1")
            _ = Native.setsid();
        var channel = ProtocolChannel.Open();
        GuardAgainstOrphaning();
        ParentSilence.Start();
        // The host's name is for a child started through a launcher (srun, ssh), whose parent names it in failures; a
        // local child (its parent's pid given) leaves it out.
        var host = Environment.GetEnvironmentVariable("NURSERY_PARENT_PID") is null ? Native.HostName() : "";
        channel.Send(FrameKind.Hello, HandshakeJson.EncodeHello(new HelloMessage(ProtocolVersion.Magic, ProtocolVersion.Current, Environment.ProcessId, Environment.Version.ToString(), host, Environment.GetEnvironmentVariable("SLURM_JOB_ID") ?? "")));
        // Work the hello does not need is done while the parent reads it.
        channel.PublishDescriptor();
        // Before any code of the body's runs: whatever it starts is killed when this process ends, however it ends.
        GroupKeeper.Start();

        // Every frame is read with plain blocking reads, the Init frame on this thread, the rest on the receiver's:
        // asynchronous reads (thread pool, pipe reader, state machines) cost a fresh process milliseconds of JIT.
        var source = new FrameSource(channel.Input);
        var first = ReadInit(source);
        ParentSilence.Heard();
        if (first is null)
            return Leave(ExitProtocol, "nursery child host: the parent's first frame is not a valid Init frame");
        if (!HandshakeJson.TryDecodeInit(new ReadOnlySequence<byte>(first), out var init, out _))
            return Leave(ExitProtocol, "nursery child host: the parent's first frame is not a valid Init frame");

        // Requests are read (and queued) from now on; the parent sends none before Ready. (Started after Ready instead,
        // these threads delayed the first item by as much: the parent answers Ready within a fraction of a millisecond.)
        var work = new WorkQueue();
        var stops = new ItemStops();
        new Thread(() => Receive(source, work, stops)) { IsBackground = true, Name = "Nursery receiver" }.Start();
        Heartbeat.Start(channel, TimeSpan.FromMilliseconds(Math.Max(1, init.HeartbeatMilliseconds)));
        IBodyInvoker body;
        var phase = "load the body";
        try
        {
            body = BodyLoader.LoadBody(init.Body, init.CodecType);
            if (init.Initializer is not null)
            {
                phase = "run the initializer";
                BodyLoader.RunInitializerAsync(init.Initializer, init.StateJson).GetAwaiter().GetResult();
            }
        }
        catch (Exception exception)
        {
            channel.Send(FrameKind.Error, HandshakeJson.EncodeError(new ErrorMessage(phase, RemoteError.From(exception))));
            return Leave(ExitBadStart, "");
        }
        // Mapped before Ready: the parent unlinks the file once the child is ready.
        var progress = init.ProgressPath is null ? null : ProgressMapping.Open(init.ProgressPath);
        channel.Send(FrameKind.Ready, []);
        // While the parent reads Ready and sends the first request.
        body.Prepare();
        // A child still idle a while after Ready (a pool's warm spare, a pool started before its items) compiles the
        // body meanwhile; one whose first item comes at once does not make it wait for that.
        if (!work.WaitForWork(IdleBeforePreparing))
            BodyLoader.PrepareBody(body);
        Serve(channel, body, work, stops, progress, init.MaxResultBytes > 0 ? init.MaxResultBytes : FrameBounds.DefaultMaxResultBytes);
        return 0;
    }

    /// <summary>
    /// The payload of the parent's first frame when it is an Init frame; null otherwise. At end of input before it,
    /// the process leaves quietly (the parent went away while the child started).
    /// </summary>
    private static byte[]? ReadInit(FrameSource source)
    {
        if (!source.TryReadHeader(out var kind, out var length, out var violation))
        {
            if (violation.Length == 0)
                Leave(0, "");
            return null;
        }
        if (kind != FrameKind.Init || length > MaxFirstFrameBytes)
            return null;
        var payload = new byte[length];
        return source.ReadPayload(payload) ? payload : null;
    }

    /// <summary>An Init frame names a method and carries an initializer's state: a few KiB, never megabytes.</summary>
    private const int MaxFirstFrameBytes = 16 << 20;

    /// <summary>
    /// Reads request frames into the work queue, one queue entry per frame (its payload read once into a pooled
    /// buffer); leaves the process at stdin EOF or on a bad frame, even while an item runs.
    /// </summary>
    private static void Receive(FrameSource source, WorkQueue work, ItemStops stops)
    {
        var stopped = new List<long>();
        while (true)
        {
            var read = source.TryReadHeader(out var kind, out var length, out var violation);
            ParentSilence.Heard();
            if (!read)
            {
                Leave(violation.Length == 0 ? 0 : ExitProtocol, violation.Length == 0 ? "" : $"nursery child host: the parent wrote {violation}");
                return;
            }
            switch (kind)
            {
                // A parent that reaches this child through a launcher (srun, ssh) sends heartbeats: proof it is alive.
                case FrameKind.Heartbeat:
                    if (!source.Skip(length))
                    {
                        Leave(ExitProtocol, "nursery child host: the parent wrote the stream ended inside a frame (a Heartbeat frame)");
                        return;
                    }
                    continue;
                case FrameKind.Stop:
                    var payload = length <= 4 + (8 * Batch.MaxStopsPerFrame) ? new byte[length] : null;
                    stopped.Clear();
                    if (payload is null || !source.ReadPayload(payload) || !Batch.TryDecodeStops(payload, stopped))
                    {
                        Leave(ExitProtocol, "nursery child host: the parent wrote a malformed Stop frame");
                        return;
                    }
                    foreach (var id in stopped)
                        stops.Stop(id);
                    continue;
                case FrameKind.TraceContext:
                    var contexts = new byte[length];
                    var traced = new List<ItemTraceContext>();
                    if (!source.ReadPayload(contexts) || !TraceFrames.TryDecodeContexts(contexts, traced))
                    {
                        Leave(ExitProtocol, "nursery child host: the parent wrote a malformed TraceContext frame");
                        return;
                    }
                    ChildTracing.Expect(traced);
                    continue;
                case FrameKind.Request:
                    break;
                default:
                    Leave(ExitProtocol, $"nursery child host: the parent sent an unexpected {kind} frame");
                    return;
            }
            var frame = RequestFrame.TryRead(source, length, out var problem);
            if (frame is null)
            {
                Leave(ExitProtocol, $"nursery child host: the parent wrote {problem}");
                return;
            }
            if (frame.Entries.Count == 0)
                frame.Recycle();
            else
                work.Add(frame);
        }
    }

    /// <summary>
    /// Runs items in order, on the main thread. Without a progress slot each reply is sent before the next item
    /// starts: the reply frame is then the parent's only proof of which item ran, so holding replies back would get a
    /// finished item blamed for a later item's crash. With a slot (the child stores there which item it is starting,
    /// and that it has finished it, so a child that dies between items is known to have been running none), replies of consecutive fast items go out together: the batch is sent when no more work is queued (no further
    /// item in this request frame and no other frame waiting), when an item took longer than <see cref="SlowItem"/>,
    /// when the oldest held reply is older than <see cref="MaxHold"/>, when it is large, or when it holds
    /// <see cref="MaxRepliesPerFrame"/> replies. Never returns: the receiver ends the process.
    /// </summary>
    private static void Serve(ProtocolChannel channel, IBodyInvoker body, WorkQueue work, ItemStops stops, ProgressMapping? progress, int maxResultBytes)
    {
        using var replies = new FrameBuffer(64 * 1024);
        var countAt = -1;
        var count = 0;
        var firstReplySent = false;
        long heldSince = 0;
        while (true)
        {
            var frame = work.Take();
            var entries = frame.Entries;
            // One clock read per item: an item's end is the next one's start, unless a flush came between them.
            var started = Stopwatch.GetTimestamp();
            for (var i = 0; i < entries.Count; i++)
            {
                ref readonly var entry = ref entries[i];
                if (count == 0)
                {
                    replies.Clear();
                    countAt = Batch.BeginBatch(replies, FrameKind.Reply);
                    heldSince = started;
                }
                progress?.Starting(entry.Id, started);
                var traced = ChildTracing.Begin(entry.Id);
                Answer(body, stops, entry.Id, entry.Payload, replies, maxResultBytes);
                progress?.Finished(entry.Id);
                if (traced is not null)
                    ChildTracing.End(traced, channel);
                count++;
                var now = Stopwatch.GetTimestamp();
                if (progress is null || count >= MaxRepliesPerFrame || replies.Length >= MaxHeldBytes
                    || (i == entries.Count - 1 && work.IsEmpty) || now - started > SlowItemTicks || now - heldSince > MaxHoldTicks)
                {
                    Batch.EndBatch(replies, countAt, count);
                    channel.Send(replies);
                    if (!firstReplySent)
                    {
                        firstReplySent = true;
                        BodyLoader.FirstReplyWasSent();
                    }
                    count = 0;
                    now = Stopwatch.GetTimestamp();
                }
                started = now;
            }
            frame.Recycle();
        }
    }

    /// <summary>How long a ready child waits for its first item before it compiles the body ahead of it.</summary>
    private static readonly TimeSpan IdleBeforePreparing = TimeSpan.FromMilliseconds(50);

    private const int MaxRepliesPerFrame = 1024;
    private const int MaxHeldBytes = Batch.MaxHeldReplyBytes;
    private static readonly TimeSpan SlowItem = TimeSpan.FromMilliseconds(0.2);
    private static readonly TimeSpan MaxHold = TimeSpan.FromMilliseconds(2);
    private static readonly long SlowItemTicks = (long)(SlowItem.TotalSeconds * Stopwatch.Frequency);
    private static readonly long MaxHoldTicks = (long)(MaxHold.TotalSeconds * Stopwatch.Frequency);

    /// <summary>
    /// Writes the reply to one item. An asynchronous body is waited for on this thread: items run one at a time
    /// anyway, and the host has no synchronization context, so the body's continuations run on the thread pool. A
    /// result or an error over <paramref name="maxResultBytes"/> is not sent (the parent would refuse the frame and
    /// kill this child): the item gets an error that says so, and the next item runs.
    /// </summary>
    private static void Answer(IBodyInvoker body, ItemStops stops, long id, in ReadOnlySequence<byte> payload, FrameBuffer replies, int maxResultBytes)
    {
        if (!stops.TryBegin(id, body.TakesToken, out var token))
        {
            Batch.WriteReply(replies, id, ReplyStatus.Error, HandshakeJson.EncodeRemoteError(new RemoteError(Batch.StoppedType, "the parent asked to stop the item before it started; it did not run", "", [])));
            return;
        }
        try
        {
            Run(body, id, payload, replies, maxResultBytes, token);
        }
        finally
        {
            if (body.TakesToken)
                stops.End();
        }
    }

    private static void Run(IBodyInvoker body, long id, in ReadOnlySequence<byte> payload, FrameBuffer replies, int maxResultBytes, CancellationToken token)
    {
        var mark = replies.Length;
        replies.WriteInt64(id);
        replies.WriteByte((byte)ReplyStatus.Ok);
        var lengthAt = replies.ReserveUInt32();
        var start = replies.Length;
        try
        {
            var invoked = body.InvokeAsync(payload, replies, token);
            if (!invoked.IsCompletedSuccessfully)
                invoked.AsTask().GetAwaiter().GetResult();
            var size = replies.Length - start;
            if (size > maxResultBytes)
            {
                replies.Truncate(mark);
                var message = $"the result is {size} bytes once encoded, over the limit of {maxResultBytes} bytes (WorkerOptions.MaxResultBytes); raise WorkerOptions.MaxResultBytes, or return a path or a reference to the data instead of the data";
                Batch.WriteReply(replies, id, ReplyStatus.Error, HandshakeJson.EncodeRemoteError(new RemoteError(Batch.ResultTooLargeType, message, "", [])));
                return;
            }
            replies.PatchUInt32(lengthAt, (uint)size);
        }
        catch (Exception exception)
        {
            ReplaceWithError(replies, mark, id, exception, maxResultBytes);
        }
    }

    private static void ReplaceWithError(FrameBuffer replies, int mark, long id, Exception exception, int maxResultBytes)
    {
        replies.Truncate(mark);
        var error = RemoteError.From(exception);
        var encoded = HandshakeJson.EncodeRemoteError(error);
        if (encoded.Length > maxResultBytes)
        {
            // An exception whose message or stack trace is larger than any result may be: its start is sent.
            var keep = Math.Max(0, Math.Min(4096, (maxResultBytes / 4) - 1024));
            var message = error.Message.Length > keep ? $"{error.Message[..keep]}… (the error was {encoded.Length} bytes once encoded, over WorkerOptions.MaxResultBytes, {maxResultBytes}: cut)" : error.Message;
            encoded = HandshakeJson.EncodeRemoteError(new RemoteError(error.Type, message, error.StackTrace.Length > keep ? error.StackTrace[..keep] : error.StackTrace, []));
        }
        Batch.WriteReply(replies, id, ReplyStatus.Error, encoded);
    }

    /// <summary>Asks the kernel to kill this process when its parent dies, and leaves at once if the parent is already gone.</summary>
    private static void GuardAgainstOrphaning()
    {
        if (!OperatingSystem.IsLinux())
            return;
        _ = Native.prctl(Native.PrSetPdeathsig, Native.Sigkill, 0, 0, 0);
        var expected = Environment.GetEnvironmentVariable("NURSERY_PARENT_PID");
        if (int.TryParse(expected, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parent) && Native.getppid() != parent)
            Leave(0, "nursery child host: the parent died before the child started");
    }

    internal static int Leave(int code, string message)
    {
        if (message.Length > 0)
            Console.Error.WriteLine(message);
        Console.Error.Flush();
        Environment.Exit(code);
        return code;
    }
}
