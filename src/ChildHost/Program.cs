using System.Buffers;
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
        channel.Send(FrameKind.Ready, []);

        var work = Channel.CreateUnbounded<(long Id, byte[] Payload)>(new UnboundedChannelOptions { SingleWriter = true });
        _ = Task.Run(() => ReceiveAsync(reader, work.Writer));
        await ServeAsync(channel, body, work.Reader).ConfigureAwait(false);
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
    /// Runs items in order and sends each reply before the next item starts. Holding replies to batch them would
    /// save a write per item, but if a later item then killed the process, the parent would blame the oldest
    /// unanswered item, which had in fact succeeded: the reply frame is the parent's only proof of which item ran.
    /// </summary>
    private static async Task ServeAsync(ProtocolChannel channel, IBodyInvoker body, ChannelReader<(long Id, byte[] Payload)> work)
    {
        using var replies = new FrameBuffer(64 * 1024);
        while (await work.WaitToReadAsync().ConfigureAwait(false))
        {
            while (work.TryRead(out var item))
            {
                replies.Clear();
                var countAt = Batch.BeginBatch(replies, FrameKind.Reply);
                await AnswerAsync(body, item.Id, item.Payload, replies).ConfigureAwait(false);
                Batch.EndBatch(replies, countAt, 1);
                channel.Send(replies);
            }
        }
    }

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
