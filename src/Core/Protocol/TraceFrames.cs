using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;

namespace Nursery.Protocol;

/// <summary>The W3C trace context of one item: the item attempt's span in the parent, which the child's spans go under.</summary>
internal readonly record struct ItemTraceContext(long Id, ActivityTraceId TraceId, ActivitySpanId SpanId, ActivityTraceFlags Flags);

/// <summary>A span that ended in the child, under an item's trace context, on its way to the parent.</summary>
internal sealed record ChildSpan(
    string Source,
    string Name,
    ActivityKind Kind,
    ActivityTraceId TraceId,
    ActivitySpanId SpanId,
    ActivitySpanId ParentSpanId,
    DateTime StartUtc,
    TimeSpan Duration,
    ActivityStatusCode Status,
    string StatusDescription,
    IReadOnlyList<KeyValuePair<string, object?>> Tags
);

/// <summary>
/// The two frames that carry traces across the process boundary. <c>TraceContext</c> (parent → child, written just
/// before the Request frame of its items): <c>[u32 count] count × [i64 id][16 bytes trace id][8 bytes span id][u8 flags]</c>.
/// <c>Spans</c> (child → parent, written before the reply of the item whose spans they are): <c>[u32 count] count ×
/// span</c>, each span its source, name, kind, ids, start, duration, status and tags (strings as <c>[u32 length][UTF-8]</c>,
/// tag values typed: string, long, double or bool). Decoding is total: a malformed payload is a violation, never an exception.
/// </summary>
internal static class TraceFrames
{
    private const int ContextBytes = 8 + 16 + 8 + 1;
    private const byte TagString = 0;
    private const byte TagLong = 1;
    private const byte TagDouble = 2;
    private const byte TagBool = 3;

    /// <summary>Writes a TraceContext frame for <paramref name="contexts"/>.</summary>
    public static void WriteContexts(FrameBuffer buffer, IReadOnlyList<ItemTraceContext> contexts)
    {
        buffer.BeginFrame(FrameKind.TraceContext);
        buffer.WriteUInt32((uint)contexts.Count);
        foreach (var context in contexts)
        {
            buffer.WriteInt64(context.Id);
            var ids = buffer.GetSpan(24);
            context.TraceId.CopyTo(ids[..16]);
            context.SpanId.CopyTo(ids.Slice(16, 8));
            buffer.Advance(24);
            buffer.WriteByte((byte)context.Flags);
        }
        buffer.EndFrame();
    }

    public static bool TryDecodeContexts(ReadOnlySpan<byte> payload, List<ItemTraceContext> into)
    {
        if (payload.Length < 4)
            return false;
        var count = BinaryPrimitives.ReadInt32LittleEndian(payload);
        if (count < 0 || (long)count * ContextBytes != payload.Length - 4)
            return false;
        var at = 4;
        for (var i = 0; i < count; i++, at += ContextBytes)
        {
            var entry = payload.Slice(at, ContextBytes);
            into.Add(new ItemTraceContext(BinaryPrimitives.ReadInt64LittleEndian(entry), ActivityTraceId.CreateFromBytes(entry.Slice(8, 16)), ActivitySpanId.CreateFromBytes(entry.Slice(24, 8)), (ActivityTraceFlags)entry[32]));
        }
        return true;
    }

    /// <summary>Writes a Spans frame for <paramref name="spans"/>.</summary>
    public static void WriteSpans(FrameBuffer buffer, IReadOnlyList<ChildSpan> spans)
    {
        buffer.BeginFrame(FrameKind.Spans);
        buffer.WriteUInt32((uint)spans.Count);
        foreach (var span in spans)
        {
            WriteString(buffer, span.Source);
            WriteString(buffer, span.Name);
            buffer.WriteByte((byte)span.Kind);
            var ids = buffer.GetSpan(32);
            span.TraceId.CopyTo(ids[..16]);
            span.SpanId.CopyTo(ids.Slice(16, 8));
            span.ParentSpanId.CopyTo(ids.Slice(24, 8));
            buffer.Advance(32);
            buffer.WriteInt64(span.StartUtc.Ticks);
            buffer.WriteInt64(span.Duration.Ticks);
            buffer.WriteByte((byte)span.Status);
            WriteString(buffer, span.StatusDescription);
            buffer.WriteUInt32((uint)span.Tags.Count);
            foreach (var (key, value) in span.Tags)
            {
                WriteString(buffer, key);
                switch (value)
                {
                    case bool flag:
                        buffer.WriteByte(TagBool);
                        buffer.WriteByte(flag ? (byte)1 : (byte)0);
                        break;
                    case sbyte or byte or short or ushort or int or uint or long:
                        buffer.WriteByte(TagLong);
                        buffer.WriteInt64(Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture));
                        break;
                    case float or double:
                        buffer.WriteByte(TagDouble);
                        buffer.WriteInt64(BitConverter.DoubleToInt64Bits(Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture)));
                        break;
                    default:
                        buffer.WriteByte(TagString);
                        WriteString(buffer, Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "");
                        break;
                }
            }
        }
        buffer.EndFrame();
    }

    public static bool TryDecodeSpans(ReadOnlySequence<byte> payload, List<ChildSpan> into)
    {
        var reader = new SequenceReader<byte>(payload);
        if (!reader.TryReadLittleEndian(out int count) || count < 0)
            return false;
        Span<byte> ids = stackalloc byte[32];
        for (var i = 0; i < count; i++)
        {
            if (!TryReadString(ref reader, out var source) || !TryReadString(ref reader, out var name) || !reader.TryRead(out var kind) || !reader.TryCopyTo(ids))
                return false;
            reader.Advance(32);
            if (!reader.TryReadLittleEndian(out long start) || !reader.TryReadLittleEndian(out long duration) || !reader.TryRead(out var status) || !TryReadString(ref reader, out var description) || !reader.TryReadLittleEndian(out int tagCount))
                return false;
            if (start is < 0 || start > DateTime.MaxValue.Ticks || duration < 0 || tagCount < 0 || kind > (byte)ActivityKind.Consumer || status > (byte)ActivityStatusCode.Error)
                return false;
            var tags = new List<KeyValuePair<string, object?>>(Math.Min(tagCount, 64));
            for (var t = 0; t < tagCount; t++)
            {
                if (!TryReadString(ref reader, out var key) || !reader.TryRead(out var type))
                    return false;
                object? value;
                switch (type)
                {
                    case TagString when TryReadString(ref reader, out var text):
                        value = text;
                        break;
                    case TagLong when reader.TryReadLittleEndian(out long number):
                        value = number;
                        break;
                    case TagDouble when reader.TryReadLittleEndian(out long bits):
                        value = BitConverter.Int64BitsToDouble(bits);
                        break;
                    case TagBool when reader.TryRead(out var flag):
                        value = flag != 0;
                        break;
                    default:
                        return false;
                }
                tags.Add(new(key, value));
            }
            into.Add(new ChildSpan(source, name, (ActivityKind)kind, ActivityTraceId.CreateFromBytes(ids[..16]), ActivitySpanId.CreateFromBytes(ids.Slice(16, 8)), ActivitySpanId.CreateFromBytes(ids.Slice(24, 8)), new DateTime(start, DateTimeKind.Utc), TimeSpan.FromTicks(duration), (ActivityStatusCode)status, description, tags));
        }
        return reader.End;
    }

    private static void WriteString(FrameBuffer buffer, string text)
    {
        var length = Encoding.UTF8.GetByteCount(text);
        buffer.WriteUInt32((uint)length);
        Encoding.UTF8.GetBytes(text, buffer.GetSpan(length));
        buffer.Advance(length);
    }

    private static bool TryReadString(ref SequenceReader<byte> reader, out string text)
    {
        text = "";
        if (!reader.TryReadLittleEndian(out int length) || length < 0 || reader.Remaining < length)
            return false;
        text = Encoding.UTF8.GetString(reader.UnreadSequence.Slice(0, length));
        reader.Advance(length);
        return true;
    }
}
