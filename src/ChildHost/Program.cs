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
        channel.Send(FrameKind.Hello, ProtocolJson.Encode(new HelloMessage(ProtocolVersion.Magic, ProtocolVersion.Current, Environment.ProcessId, Environment.Version.ToString(), Environment.MachineName, Environment.GetEnvironmentVariable("SLURM_JOB_ID") ?? "")));

        var reader = new FrameReader(channel.Input);
        var first = await reader.ReadAsync().ConfigureAwait(false);
        ParentSilence.Heard();
        if (first.Status == ReadStatus.End)
            return Leave(0, "");
        if (first.Status != ReadStatus.Frame || first.Kind != FrameKind.Init || !ProtocolJson.TryDecode<InitMessage>(first.Payload, out var init, out _))
            return Leave(ExitProtocol, "nursery child host: the parent's first frame is not a valid Init frame");

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
            channel.Send(FrameKind.Error, ProtocolJson.Encode(new ErrorMessage(phase, RemoteError.From(exception))));
            return Leave(ExitBadStart, "");
        }
        // Mapped before Ready: the parent unlinks the file once the child is ready.
        using var progress = init.ProgressPath is null ? null : ProgressSlot.Open(init.ProgressPath);
        channel.Send(FrameKind.Ready, []);

        var work = Channel.CreateUnbounded<(long Id, byte[] Payload)>(new UnboundedChannelOptions { SingleWriter = true });
        _ = Task.Run(() => ReceiveAsync(reader, work.Writer));
        await ServeAsync(channel, body, work.Reader, progress).ConfigureAwait(false);
        return 0;
    }

    /// <summary>Reads request frames into the work queue; leaves the process at stdin EOF or on a bad frame.</summary>
    private static async Task ReceiveAsync(FrameReader reader, ChannelWriter<(long, byte[])> work)
    {
        var requests = new List<RequestEntry>();
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
            requests.Clear();
            if (read.Kind != FrameKind.Request || !Batch.TryDecodeRequests(read.Payload, requests, out _))
            {
                Leave(ExitProtocol, $"nursery child host: the parent sent an unexpected or malformed {read.Kind} frame");
                return;
            }
            foreach (var request in requests)
                work.TryWrite((request.Id, request.Payload.ToArray()));
        }
    }

    /// <summary>
    /// Runs items in order. Without a progress slot each reply is sent before the next item starts: the reply frame is
    /// then the parent's only proof of which item ran, so holding replies back would get a finished item blamed for a
    /// later item's crash. With a slot (the child stores there which item it is starting), replies of consecutive fast
    /// items go out together: the batch is sent when no more work is queued, when an item took longer than
    /// <see cref="SlowItem"/>, when the oldest held reply is older than <see cref="MaxHold"/>, or when it is large.
    /// </summary>
    private static async Task ServeAsync(ProtocolChannel channel, IBodyInvoker body, ChannelReader<(long Id, byte[] Payload)> work, ProgressSlot? progress)
    {
        using var replies = new FrameBuffer(64 * 1024);
        var countAt = -1;
        var count = 0;
        long heldSince = 0;
        while (await work.WaitToReadAsync().ConfigureAwait(false))
        {
            while (work.TryRead(out var item))
            {
                if (count == 0)
                {
                    replies.Clear();
                    countAt = Batch.BeginBatch(replies, FrameKind.Reply);
                    heldSince = Stopwatch.GetTimestamp();
                }
                progress?.Starting(item.Id);
                var started = Stopwatch.GetTimestamp();
                await AnswerAsync(body, item.Id, item.Payload, replies).ConfigureAwait(false);
                count++;
                var now = Stopwatch.GetTimestamp();
                if (progress is null || count >= MaxRepliesPerFrame || replies.Length >= MaxHeldBytes || !work.TryPeek(out _)
                    || Stopwatch.GetElapsedTime(started, now) > SlowItem || Stopwatch.GetElapsedTime(heldSince, now) > MaxHold)
                {
                    Batch.EndBatch(replies, countAt, count);
                    channel.Send(replies);
                    count = 0;
                }
            }
        }
    }

    private const int MaxRepliesPerFrame = 1024;
    private const int MaxHeldBytes = 256 * 1024;
    private static readonly TimeSpan SlowItem = TimeSpan.FromMilliseconds(0.2);
    private static readonly TimeSpan MaxHold = TimeSpan.FromMilliseconds(2);

    private static async ValueTask AnswerAsync(IBodyInvoker body, long id, byte[] payload, FrameBuffer replies)
    {
        var mark = replies.Length;
        replies.WriteInt64(id);
        replies.WriteByte((byte)ReplyStatus.Ok);
        var lengthAt = replies.ReserveUInt32();
        var start = replies.Length;
        try
        {
            await body.InvokeAsync(new ReadOnlySequence<byte>(payload), replies).ConfigureAwait(false);
            replies.PatchUInt32(lengthAt, (uint)(replies.Length - start));
        }
        catch (Exception exception)
        {
            replies.Truncate(mark);
            Batch.WriteReply(replies, id, ReplyStatus.Error, ProtocolJson.Encode(RemoteError.From(exception)));
        }
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
