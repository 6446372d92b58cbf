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
/// <c>{"log":"…"}</c> lines in. A line that is none of these is a protocol violation. A worker whose ready line says
/// <c>"batch":true</c> is sent batches instead, <c>{"first":N,"items":[…]}</c> for the items N, N+1, …, and may answer
/// runs of them with <c>{"first":N,"ok":[…]}</c>.
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
    private static readonly byte[] BatchPrefix = "{\"first\":"u8.ToArray();
    private static readonly byte[] BatchMiddle = ",\"items\":["u8.ToArray();
    private static readonly byte[] BatchEnd = "]}\n"u8.ToArray();
    private static readonly byte[] StopPrefix = "{\"stop\":["u8.ToArray();
    private static readonly byte[] TracePrefix = "{\"trace\":{"u8.ToArray();

    /// <summary>The worker's ready line offered the batch form; set by the reader before the worker is ready, so before any item is written.</summary>
    private volatile bool _batches;

    /// <summary>The worker's ready line offered stop requests (its handler can stop an item); set with <see cref="_batches"/>.</summary>
    private volatile bool _stops;

    /// <summary>The worker's ready line offered to take trace contexts; set with <see cref="_batches"/>.</summary>
    private volatile bool _traces;

    /// <summary>
    /// The batch line being written (the writer's own): whether one is open, the id of its last item and where the buffer
    /// ended after that item; <see cref="_beforeLast"/> is the same before the last item, for when the caller rolled that
    /// item back (it could not be encoded).
    /// </summary>
    private readonly record struct BatchLine(bool Open, long LastId, int End);

    private BatchLine _afterLast;
    private BatchLine _beforeLast;

    public override bool PlacesItselfInCgroup => true;

    public override bool StopsItems => _stops;

    public override bool CarriesTraceContext => _traces;

    /// <summary>One line, <c>{"trace":{"17":"00-…-…-01",…}}</c>: each item's W3C <c>traceparent</c>, by id.</summary>
    public override void WriteTraceContexts(FrameBuffer buffer, IReadOnlyList<ItemTraceContext> contexts)
    {
        buffer.Write(TracePrefix);
        for (var i = 0; i < contexts.Count; i++)
        {
            var context = contexts[i];
            if (i > 0)
                buffer.WriteByte((byte)',');
            buffer.WriteByte((byte)'"');
            WriteId(buffer, context.Id);
            buffer.Write("\":\"00-"u8);
            WriteAscii(buffer, context.TraceId.ToHexString());
            buffer.WriteByte((byte)'-');
            WriteAscii(buffer, context.SpanId.ToHexString());
            buffer.Write((context.Flags & System.Diagnostics.ActivityTraceFlags.Recorded) != 0 ? "-01\""u8 : "-00\""u8);
        }
        buffer.Write("}}\n"u8);
    }

    private static void WriteAscii(FrameBuffer buffer, string text)
    {
        var span = buffer.GetSpan(text.Length);
        var written = Encoding.ASCII.GetBytes(text, span);
        buffer.Advance(written);
    }

    public override void WriteStops(FrameBuffer buffer, IReadOnlyList<long> ids)
    {
        buffer.Write(StopPrefix);
        for (var i = 0; i < ids.Count; i++)
        {
            if (i > 0)
                buffer.WriteByte((byte)',');
            WriteId(buffer, ids[i]);
        }
        buffer.Write(BatchEnd);
    }

    public override Option<string> Preflight() => CommandLaunch.Preflight(executable);

    public override LaunchSpec Launch(IReadOnlyDictionary<string, string> environment, MemoryCgroup? cgroup) =>
        CommandLaunch.Build(executable, arguments, environment, workingDirectory, cgroup);

    public override Task<bool> GreetAsync(Stream stdin, CancellationToken cancellationToken) => Task.FromResult(true);

    public override void Abandon() { }

    public override int BeginBatch(FrameBuffer buffer)
    {
        _afterLast = _beforeLast = new BatchLine(false, 0, buffer.Length);
        return buffer.Length;
    }

    public override void WriteItem(FrameBuffer buffer, PendingItem item)
    {
        if (!_batches)
        {
            buffer.Write(ItemPrefix);
            WriteId(buffer, item.Id);
            buffer.Write(ItemMiddle);
            item.WriteInput(buffer);
            buffer.Write(ItemEnd);
            return;
        }
        // Consecutive ids share a line; a gap (an item cancelled before it was written) starts the next line.
        var line = CurrentLine(buffer);
        _beforeLast = _afterLast = line;
        if (line.Open && item.Id == line.LastId + 1)
            buffer.WriteByte((byte)',');
        else
        {
            if (line.Open)
                buffer.Write(BatchEnd);
            buffer.Write(BatchPrefix);
            WriteId(buffer, item.Id);
            buffer.Write(BatchMiddle);
        }
        item.WriteInput(buffer);
        _afterLast = new BatchLine(true, item.Id, buffer.Length);
    }

    public override void EndBatch(FrameBuffer buffer, int mark, int count)
    {
        if (_batches && CurrentLine(buffer).Open)
            buffer.Write(BatchEnd);
    }

    /// <summary>The open line as the buffer now ends: the caller truncates the buffer to undo an item it could not encode.</summary>
    private BatchLine CurrentLine(FrameBuffer buffer) => buffer.Length == _afterLast.End ? _afterLast : _beforeLast;

    private static void WriteId(FrameBuffer buffer, long id)
    {
        id.TryFormat(buffer.GetSpan(20), out var written, default, CultureInfo.InvariantCulture);
        buffer.Advance(written);
    }

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
        var replies = new List<ReplyEntry>();
        try
        {
            while (true)
            {
                var read = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                var buffer = read.Buffer;
                while (TryTakeLine(ref buffer, ref searched, out var line))
                {
                    listener.Heard();
                    if (!Handle(line, listener, ref ready, replies))
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

    /// <summary>
    /// One line: a reply, a batch of replies, ready, heartbeat, log or a start error. Read with a Utf8JsonReader in one
    /// pass; a result's bytes are a slice of the line, decoded by the item's codec before the line is released.
    /// </summary>
    private bool Handle(ReadOnlySequence<byte> line, IWireListener listener, ref bool ready, List<ReplyEntry> replies)
    {
        var message = default(Message);
        replies.Clear();
        try
        {
            var reader = new Utf8JsonReader(line);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                listener.Violation(reader.TokenType is JsonTokenType.None ? "the worker wrote a line that is not a JSON protocol message (print to stderr instead)" : "the worker wrote a JSON line that is not an object", Head(line));
                return false;
            }
            ReadMessage(ref reader, line, replies, ref message);
            if (reader.Read())
            {
                listener.Violation("the worker wrote more than one JSON value on a line", Head(line));
                return false;
            }
        }
        catch (JsonException)
        {
            listener.Violation("the worker wrote a line that is not a JSON protocol message (print to stderr instead)", Head(line));
            return false;
        }
        if (message.Id is { } id)
        {
            if (message.Ok is (var okStart, var okLength))
                return listener.Result(id, Slice(line, okStart, okLength));
            if (message.Error is (var errorStart, var errorLength))
                return listener.Error(id, ToRemoteError(Slice(line, errorStart, errorLength)));
            listener.Violation($"the reply to item {id} has neither \"ok\" nor \"error\"", Head(line));
            return false;
        }
        if (message.First is { } first)
        {
            if (message.Ok is (var runStart, var runLength) && replies.Count == 0)
            {
                // "ok" came before "first": read the run now.
                var run = Slice(line, runStart, runLength);
                var runReader = new Utf8JsonReader(run);
                runReader.Read();
                if (runReader.TokenType != JsonTokenType.StartArray)
                {
                    listener.Violation($"the batch reply from item {first} has an \"ok\" that is not an array", Head(line));
                    return false;
                }
                ReadRun(ref runReader, run, first, replies);
            }
            else if (message.Ok is null)
            {
                listener.Violation($"the batch reply from item {first} has no \"ok\" array", Head(line));
                return false;
            }
            return replies.Count == 0 || listener.Results(replies);
        }
        if (message.Ready)
        {
            if (!ready)
            {
                ready = true;
                _batches = message.Batch;
                _stops = message.Stop;
                _traces = message.Trace;
                listener.Ready();
            }
            return true;
        }
        if (message.Heartbeat)
            return true;
        if (message.Log is (var logStart, var logLength))
        {
            var log = Slice(line, logStart, logLength);
            listener.Log(message.Level ?? 2, ReadText(log));
            return true;
        }
        if (message.Error is (var startErrorStart, var startErrorLength))
        {
            listener.Failed("start", ToRemoteError(Slice(line, startErrorStart, startErrorLength)));
            return true;
        }
        listener.Violation("the worker wrote a JSON object that is not a protocol message", Head(line));
        return false;
    }

    /// <summary>What one line said: the members the protocol knows, values as (start, length) in the line.</summary>
    private struct Message
    {
        public long? Id;
        public long? First;
        public (long Start, long Length)? Ok;
        public (long Start, long Length)? Error;
        public (long Start, long Length)? Log;
        public int? Level;
        public bool Ready;
        public bool Batch;
        public bool Stop;
        public bool Trace;
        public bool Heartbeat;
    }

    /// <summary>Reads an object's members (the reader is on its StartObject, and ends on its EndObject).</summary>
    private static void ReadMessage(ref Utf8JsonReader reader, in ReadOnlySequence<byte> line, List<ReplyEntry> replies, ref Message message)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("ok"u8))
            {
                reader.Read();
                var start = reader.TokenStartIndex;
                if (message.First is { } first && message.Id is null && reader.TokenType == JsonTokenType.StartArray)
                    ReadRun(ref reader, line, first, replies);
                else
                    reader.Skip();
                message.Ok = (start, reader.BytesConsumed - start);
            }
            else if (reader.ValueTextEquals("id"u8))
                message.Id = ReadInt64(ref reader);
            else if (reader.ValueTextEquals("first"u8))
                message.First = ReadInt64(ref reader);
            else if (reader.ValueTextEquals("heartbeat"u8))
            {
                message.Heartbeat = true;
                reader.Read();
                reader.Skip();
            }
            else if (reader.ValueTextEquals("ready"u8))
            {
                message.Ready = true;
                reader.Read();
                reader.Skip();
            }
            else if (reader.ValueTextEquals("batch"u8))
                message.Batch = ReadTrue(ref reader);
            else if (reader.ValueTextEquals("stop"u8))
                message.Stop = ReadTrue(ref reader);
            else if (reader.ValueTextEquals("trace"u8))
                message.Trace = ReadTrue(ref reader);
            else if (reader.ValueTextEquals("error"u8))
                message.Error = ReadValue(ref reader);
            else if (reader.ValueTextEquals("log"u8))
                message.Log = ReadValue(ref reader);
            else if (reader.ValueTextEquals("level"u8))
            {
                reader.Read();
                message.Level = reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var level) ? level : null;
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
    }

    /// <summary>The results of items <paramref name="first"/>, <paramref name="first"/> + 1, …: the reader is on the array's start and ends on its end.</summary>
    private static void ReadRun(ref Utf8JsonReader reader, in ReadOnlySequence<byte> source, long first, List<ReplyEntry> replies)
    {
        var id = first;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            var start = reader.TokenStartIndex;
            if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
                reader.Skip();
            replies.Add(new ReplyEntry(id++, ReplyStatus.Ok, Slice(source, start, reader.BytesConsumed - start)));
        }
    }

    /// <summary>Whether the member's value is <c>true</c>; anything else (and its contents) is passed over.</summary>
    private static bool ReadTrue(ref Utf8JsonReader reader)
    {
        reader.Read();
        var value = reader.TokenType == JsonTokenType.True;
        reader.Skip();
        return value;
    }

    private static long? ReadInt64(ref Utf8JsonReader reader)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var value))
            return value;
        reader.Skip();
        return null;
    }

    private static (long Start, long Length) ReadValue(ref Utf8JsonReader reader)
    {
        reader.Read();
        var start = reader.TokenStartIndex;
        reader.Skip();
        return (start, reader.BytesConsumed - start);
    }

    /// <summary>A slice of the line, without walking segments when the line is in one (the usual case).</summary>
    private static ReadOnlySequence<byte> Slice(in ReadOnlySequence<byte> source, long start, long length) =>
        source.IsSingleSegment ? new ReadOnlySequence<byte>(source.First.Slice((int)start, (int)length)) : source.Slice(start, length);

    /// <summary>A JSON string's text, or any other value's JSON.</summary>
    private static string ReadText(in ReadOnlySequence<byte> value)
    {
        var reader = new Utf8JsonReader(value);
        reader.Read();
        return reader.TokenType == JsonTokenType.String ? reader.GetString() ?? "" : Encoding.UTF8.GetString(value);
    }

    private static RemoteError ToRemoteError(in ReadOnlySequence<byte> value)
    {
        var reader = new Utf8JsonReader(value);
        using var document = JsonDocument.ParseValue(ref reader);
        return ToRemoteError(document.RootElement);
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
