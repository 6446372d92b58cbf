using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;
using Nursery.Protocol;

namespace Nursery.ChildHost;

/// <summary>
/// The child executable: says hello, loads the body the parent names, runs its initializer, then answers batches of
/// requests one item at a time until stdin ends. Exits at stdin EOF and when its parent dies.
/// </summary>
internal static class Program
{
    private const int ExitBadStart = 2;
    private const int ExitProtocol = 3;

    private static async Task<int> Main()
    {
        var channel = ProtocolChannel.Open();
        GuardAgainstOrphaning();
        ParentSilence.Start();
        channel.Send(FrameKind.Hello, HandshakeJson.EncodeHello(new HelloMessage(ProtocolVersion.Magic, ProtocolVersion.Current, Environment.ProcessId, Environment.Version.ToString(), Native.HostName(), Environment.GetEnvironmentVariable("SLURM_JOB_ID") ?? "")));
        // Work the hello does not need is done while the parent reads it.
        channel.PublishDescriptor();

        // The Init frame is read on this thread, with plain blocking reads: the first asynchronous read (thread pool,
        // pipe reader) costs a fresh process milliseconds, and it is paid below while the body loads instead.
        var first = ReadFirstFrame(channel.Input);
        ParentSilence.Heard();
        if (first is null)
            return Leave(0, "");
        if (first.Value.Kind != FrameKind.Init || !HandshakeJson.TryDecodeInit(new ReadOnlySequence<byte>(first.Value.Payload), out var init, out _))
            return Leave(ExitProtocol, "nursery child host: the parent's first frame is not a valid Init frame");

        // Requests are read (and queued) from now on; the parent sends none before Ready.
        var work = Channel.CreateUnbounded<RequestFrame>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        var reader = new FrameReader(channel.Input);
        _ = Task.Run(() => ReceiveAsync(reader, work.Writer));
        Heartbeat.Start(channel, TimeSpan.FromMilliseconds(Math.Max(1, init.HeartbeatMilliseconds)));
        IBodyInvoker body;
        var phase = "load the body";
        try
        {
            body = BodyLoader.LoadBody(init.Body, init.CodecType);
            if (init.Initializer is not null)
            {
                phase = "run the initializer";
                await BodyLoader.RunInitializerAsync(init.Initializer, init.StateJson).ConfigureAwait(false);
            }
        }
        catch (Exception exception)
        {
            channel.Send(FrameKind.Error, HandshakeJson.EncodeError(new ErrorMessage(phase, RemoteError.From(exception))));
            return Leave(ExitBadStart, "");
        }
        // Mapped before Ready: the parent unlinks the file once the child is ready.
        using var progress = init.ProgressPath is null ? null : ProgressSlot.Open(init.ProgressPath);
        channel.Send(FrameKind.Ready, []);
        await ServeAsync(channel, body, work.Reader, progress).ConfigureAwait(false);
        return 0;
    }

    /// <summary>
    /// The parent's first frame, read with blocking reads of exactly its bytes (so the frame reader that takes over
    /// starts at the next frame); null at end of input. A header that is not a frame's leaves the process.
    /// </summary>
    private static (FrameKind Kind, byte[] Payload)? ReadFirstFrame(Stream input)
    {
        Span<byte> header = stackalloc byte[FrameParser.HeaderLength];
        var got = ReadFully(input, header);
        if (got == 0)
            return null;
        var length = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(header);
        if (got < header.Length || length is 0 or > MaxFirstFrameBytes)
        {
            Leave(ExitProtocol, $"nursery child host: the parent's first frame has a bad header ({got} bytes, length {length})");
            return null;
        }
        var payload = new byte[length - 1];
        if (ReadFully(input, payload) < payload.Length)
        {
            Leave(ExitProtocol, "nursery child host: the parent's first frame ended early");
            return null;
        }
        return ((FrameKind)header[4], payload);
    }

    /// <summary>An Init frame names a method and carries an initializer's state: a few KiB, never megabytes.</summary>
    private const uint MaxFirstFrameBytes = 16 << 20;

    private static int ReadFully(Stream input, Span<byte> into)
    {
        try
        {
            return input.ReadAtLeast(into, into.Length, throwOnEndOfStream: false);
        }
        catch (IOException)
        {
            // A broken channel is an end.
            return 0;
        }
    }

    /// <summary>
    /// Reads request frames into the work queue, one queue entry per frame (its payload copied once into a pooled
    /// buffer); leaves the process at stdin EOF or on a bad frame, even while an item runs.
    /// </summary>
    private static async Task ReceiveAsync(FrameReader reader, ChannelWriter<RequestFrame> work)
    {
        while (true)
        {
            var read = await reader.ReadAsync().ConfigureAwait(false);
            ParentSilence.Heard();
            switch (read.Status)
            {
                case ReadStatus.End:
                    Leave(0, "");
                    return;
                case ReadStatus.Violation:
                    Leave(ExitProtocol, $"nursery child host: the parent wrote {read.Detail}");
                    return;
            }
            if (read.Kind == FrameKind.Bye)
            {
                Leave(0, "");
                return;
            }
            // A parent that reaches this child through a launcher (srun, ssh) sends heartbeats: proof it is alive.
            if (read.Kind == FrameKind.Heartbeat)
                continue;
            var frame = read.Kind == FrameKind.Request ? RequestFrame.TryLoad(read.Payload) : null;
            if (frame is null)
            {
                Leave(ExitProtocol, $"nursery child host: the parent sent an unexpected or malformed {read.Kind} frame");
                return;
            }
            if (frame.Entries.Count == 0)
                frame.Recycle();
            else
                work.TryWrite(frame);
        }
    }

    /// <summary>
    /// Runs items in order. Without a progress slot each reply is sent before the next item starts: the reply frame is
    /// then the parent's only proof of which item ran, so holding replies back would get a finished item blamed for a
    /// later item's crash. With a slot (the child stores there which item it is starting), replies of consecutive fast
    /// items go out together: the batch is sent when no more work is queued (no further item in this request frame and
    /// no other frame waiting), when an item took longer than <see cref="SlowItem"/>, when the oldest held reply is
    /// older than <see cref="MaxHold"/>, when it is large, or when it holds <see cref="MaxRepliesPerFrame"/> replies.
    /// </summary>
    private static async Task ServeAsync(ProtocolChannel channel, IBodyInvoker body, ChannelReader<RequestFrame> work, ProgressSlot? progress)
    {
        using var replies = new FrameBuffer(64 * 1024);
        var countAt = -1;
        var count = 0;
        var firstReplySent = false;
        long heldSince = 0;
        while (await work.WaitToReadAsync().ConfigureAwait(false))
        {
            while (work.TryRead(out var frame))
            {
                var entries = frame.Entries;
                // One clock read per item: an item's end is the next one's start, unless a flush came between them.
                var started = Stopwatch.GetTimestamp();
                for (var i = 0; i < entries.Count; i++)
                {
                    var entry = entries[i];
                    if (count == 0)
                    {
                        replies.Clear();
                        countAt = Batch.BeginBatch(replies, FrameKind.Reply);
                        heldSince = started;
                    }
                    progress?.Starting(entry.Id, started);
                    await AnswerAsync(body, entry.Id, entry.Payload, replies).ConfigureAwait(false);
                    count++;
                    var now = Stopwatch.GetTimestamp();
                    if (progress is null || count >= MaxRepliesPerFrame || replies.Length >= MaxHeldBytes
                        || (i == entries.Count - 1 && !work.TryPeek(out _)) || now - started > SlowItemTicks || now - heldSince > MaxHoldTicks)
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
    }

    private const int MaxRepliesPerFrame = 1024;
    private const int MaxHeldBytes = 256 * 1024;
    private static readonly TimeSpan SlowItem = TimeSpan.FromMilliseconds(0.2);
    private static readonly TimeSpan MaxHold = TimeSpan.FromMilliseconds(2);
    private static readonly long SlowItemTicks = (long)(SlowItem.TotalSeconds * Stopwatch.Frequency);
    private static readonly long MaxHoldTicks = (long)(MaxHold.TotalSeconds * Stopwatch.Frequency);

    private static ValueTask AnswerAsync(IBodyInvoker body, long id, in ReadOnlySequence<byte> payload, FrameBuffer replies)
    {
        var mark = replies.Length;
        replies.WriteInt64(id);
        replies.WriteByte((byte)ReplyStatus.Ok);
        var lengthAt = replies.ReserveUInt32();
        var start = replies.Length;
        try
        {
            var invoked = body.InvokeAsync(payload, replies);
            if (invoked.IsCompletedSuccessfully)
            {
                replies.PatchUInt32(lengthAt, (uint)(replies.Length - start));
                return ValueTask.CompletedTask;
            }
            return FinishAsync(invoked, id, replies, mark, lengthAt, start);
        }
        catch (Exception exception)
        {
            ReplaceWithError(replies, mark, id, exception);
            return ValueTask.CompletedTask;
        }
    }

    private static async ValueTask FinishAsync(ValueTask invoked, long id, FrameBuffer replies, int mark, int lengthAt, int start)
    {
        try
        {
            await invoked.ConfigureAwait(false);
            replies.PatchUInt32(lengthAt, (uint)(replies.Length - start));
        }
        catch (Exception exception)
        {
            ReplaceWithError(replies, mark, id, exception);
        }
    }

    private static void ReplaceWithError(FrameBuffer replies, int mark, long id, Exception exception)
    {
        replies.Truncate(mark);
        Batch.WriteReply(replies, id, ReplyStatus.Error, HandshakeJson.EncodeRemoteError(RemoteError.From(exception)));
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
