using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Text;
using System.Text.Json;
using LanguageExt;
using Nursery.Launch;
using Nursery.Protocol;
using Nursery.Supervision;

namespace Nursery.Commands;

/// <summary>
/// Newline-delimited JSON with a persistent worker in any language: <c>{"id":N,"item":…}</c> lines out,
/// <c>{"id":N,"ok":…}</c> / <c>{"id":N,"error":{…}}</c> / <c>{"ready":true}</c> / <c>{"heartbeat":true}</c> /
/// <c>{"log":"…"}</c> lines in. A line that is none of these is a protocol violation.
/// </summary>
/// <remarks>
/// A line may hold one reply: at most <paramref name="maxResultBytes"/> (<see cref="WorkerOptions.MaxResultBytes"/>)
/// plus 1 MiB for the rest of the line. Longer, and the worker is a protocol violation as soon as that many bytes have
/// come without a newline: the parent neither buffers an endless line nor waits for its end.
/// </remarks>
internal sealed class NdjsonWire(string executable, IReadOnlyList<string> arguments, string workingDirectory, bool expectReady, int maxResultBytes = FrameBounds.DefaultMaxResultBytes) : Wire
{
    private readonly long _maxLineBytes = (long)maxResultBytes + FrameBounds.ReplyOverhead;
    private static readonly byte[] ItemPrefix = "{\"id\":"u8.ToArray();
    private static readonly byte[] ItemMiddle = ",\"item\":"u8.ToArray();
    private static readonly byte[] ItemEnd = "}\n"u8.ToArray();

    public override bool PlacesItselfInCgroup => true;

    public override Option<string> Preflight() => CommandLaunch.Preflight(executable);

    public override LaunchSpec Launch(IReadOnlyDictionary<string, string> environment, MemoryCgroup? cgroup) =>
        CommandLaunch.Build(executable, arguments, environment, workingDirectory, cgroup);

    public override Task<bool> GreetAsync(Stream stdin, CancellationToken cancellationToken) => Task.FromResult(true);

    public override void Abandon() { }

    public override int BeginBatch(FrameBuffer buffer) => buffer.Length;

    public override void WriteItem(FrameBuffer buffer, PendingItem item)
    {
        buffer.Write(ItemPrefix);
        buffer.Write(Encoding.ASCII.GetBytes(item.Id.ToString(CultureInfo.InvariantCulture)));
        buffer.Write(ItemMiddle);
        item.WriteInput(buffer);
        buffer.Write(ItemEnd);
    }

    public override void EndBatch(FrameBuffer buffer, int mark, int count) { }

    public override async Task ReadAsync(Stream stdout, IWireListener listener, CancellationToken cancellationToken)
    {
        listener.Hello(0);
        var ready = !expectReady;
        if (ready)
            listener.Ready();
        var reader = PipeReader.Create(stdout, new StreamPipeReaderOptions(bufferSize: 64 * 1024, minimumReadSize: 16 * 1024, leaveOpen: true));
        // How far into the unconsumed bytes no newline was found: each read searches only what it added, so a long
        // line costs one pass, not one pass per read.
        long searched = 0;
        try
        {
            while (true)
            {
                var read = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                var buffer = read.Buffer;
                while (TryTakeLine(ref buffer, ref searched, out var line))
                {
                    listener.Heard();
                    if (!Handle(line, listener, ref ready))
                        return;
                }
                if (buffer.Length > _maxLineBytes)
                {
                    listener.Violation(
                        $"the worker wrote a line longer than {_maxLineBytes} bytes ({buffer.Length} bytes without a newline so far): one reply may be at most WorkerOptions.MaxResultBytes ({maxResultBytes}) plus 1 MiB; raise WorkerOptions.MaxResultBytes, or reply with a path or a reference to the data",
                        Head(buffer)
                    );
                    return;
                }
                if (read.IsCompleted)
                {
                    if (!buffer.IsEmpty)
                        listener.Violation("the worker's output ended inside a line (no closing newline)", Head(buffer));
                    return;
                }
                reader.AdvanceTo(buffer.Start, buffer.End);
            }
        }
        catch (OperationCanceledException) { }
        catch (IOException) { }
        finally
        {
            await reader.CompleteAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Takes the first line off <paramref name="buffer"/>, searching for its newline from <paramref name="searched"/> bytes in.</summary>
    private static bool TryTakeLine(ref ReadOnlySequence<byte> buffer, ref long searched, out ReadOnlySequence<byte> line)
    {
        var newline = buffer.Slice(searched).PositionOf((byte)'\n');
        if (newline is null)
        {
            searched = buffer.Length;
            line = default;
            return false;
        }
        line = buffer.Slice(0, newline.Value);
        buffer = buffer.Slice(buffer.GetPosition(1, newline.Value));
        searched = 0;
        return true;
    }

    private static bool Handle(ReadOnlySequence<byte> line, IWireListener listener, ref bool ready)
    {
        JsonDocument document;
        try
        {
            var reader = new Utf8JsonReader(line);
            document = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException)
        {
            listener.Violation("the worker wrote a line that is not a JSON protocol message (print to stderr instead)", Head(line));
            return false;
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                listener.Violation("the worker wrote a JSON line that is not an object", Head(line));
                return false;
            }
            if (root.TryGetProperty("id", out var idElement) && idElement.TryGetInt64(out var id))
            {
                if (root.TryGetProperty("ok", out var ok))
                    return listener.Result(id, new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(ok.GetRawText())));
                if (root.TryGetProperty("error", out var error))
                    return listener.Error(id, ToRemoteError(error));
                listener.Violation($"the reply to item {id} has neither \"ok\" nor \"error\"", Head(line));
                return false;
            }
            if (root.TryGetProperty("ready", out _))
            {
                if (!ready)
                {
                    ready = true;
                    listener.Ready();
                }
                return true;
            }
            if (root.TryGetProperty("heartbeat", out _))
                return true;
            if (root.TryGetProperty("log", out var log))
            {
                var level = root.TryGetProperty("level", out var levelElement) && levelElement.TryGetInt32(out var value) ? value : 2;
                listener.Log(level, log.ValueKind == JsonValueKind.String ? log.GetString() ?? "" : log.GetRawText());
                return true;
            }
            if (root.TryGetProperty("error", out var startError))
            {
                listener.Failed("start", ToRemoteError(startError));
                return true;
            }
            listener.Violation("the worker wrote a JSON object that is not a protocol message", Head(line));
            return false;
        }
    }

    private static RemoteError ToRemoteError(JsonElement error)
    {
        string Text(string name) => error.ValueKind == JsonValueKind.Object && error.TryGetProperty(name, out var value) ? (value.ValueKind == JsonValueKind.String ? value.GetString() ?? "" : value.GetRawText()) : "";
        return error.ValueKind == JsonValueKind.String
            ? new RemoteError("Error", error.GetString() ?? "", "", [])
            : new RemoteError(Text("type") is { Length: > 0 } type ? type : "Error", Text("message"), Text("traceback"), []);
    }

    private static byte[] Head(ReadOnlySequence<byte> bytes) => bytes.Slice(0, Math.Min(bytes.Length, 64)).ToArray();
}
