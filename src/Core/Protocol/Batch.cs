using System.Buffers;
using System.Buffers.Binary;

namespace Nursery.Protocol;

/// <summary>Whether a reply entry carries a result or an error.</summary>
internal enum ReplyStatus : byte
{
    /// <summary>The payload is the codec's encoding of the result.</summary>
    Ok = 0,

    /// <summary>The payload is a JSON <see cref="RemoteError"/>.</summary>
    Error = 1,
}

/// <summary>One request in a Request frame.</summary>
internal readonly record struct RequestEntry(long Id, ReadOnlySequence<byte> Payload);

/// <summary>One reply in a Reply frame.</summary>
internal readonly record struct ReplyEntry(long Id, ReplyStatus Status, ReadOnlySequence<byte> Payload);

/// <summary>
/// The payloads of Request and Reply frames: <c>[u32 count]</c> then, per request, <c>[i64 id][u32 length][bytes]</c>;
/// per reply, <c>[i64 id][u8 status][u32 length][bytes]</c>. Decoding is total: malformed input gives false, never an exception.
/// </summary>
internal static class Batch
{
    /// <summary>
    /// Decodes a Request frame's payload, which the child host holds in one buffer: read with span reads, not a
    /// sequence reader (its generic code is compiled at run time in every fresh child, and slower per item).
    /// </summary>
    public static bool TryDecodeRequests(ReadOnlyMemory<byte> payload, RequestEntries into, out string violation)
    {
        var bytes = payload.Span;
        violation = "";
        int count;
        if (bytes.Length < 4 || (count = BinaryPrimitives.ReadInt32LittleEndian(bytes)) < 0)
        {
            violation = "a request frame without a valid item count";
            return false;
        }
        var at = 4;
        for (var i = 0; i < count; i++)
        {
            int length;
            if (bytes.Length - at < 12 || (length = BinaryPrimitives.ReadInt32LittleEndian(bytes[(at + 8)..])) < 0 || bytes.Length - at - 12 < length)
            {
                violation = $"request {i} of {count} is truncated";
                return false;
            }
            var id = BinaryPrimitives.ReadInt64LittleEndian(bytes[at..]);
            at += 12;
            into.Add(new RequestEntry(id, new ReadOnlySequence<byte>(payload.Slice(at, length))));
            at += length;
        }
        if (at != bytes.Length)
        {
            violation = $"{bytes.Length - at} stray bytes after {count} requests";
            return false;
        }
        return true;
    }

    public static bool TryDecodeReplies(ReadOnlySequence<byte> payload, List<ReplyEntry> into, out string violation)
    {
        var reader = new SequenceReader<byte>(payload);
        violation = "";
        if (!reader.TryReadLittleEndian(out int count) || count < 0)
        {
            violation = "a reply frame without a valid item count";
            return false;
        }
        for (var i = 0; i < count; i++)
        {
            if (
                !reader.TryReadLittleEndian(out long id)
                || !reader.TryRead(out var status)
                || status > (byte)ReplyStatus.Error
                || !reader.TryReadLittleEndian(out int length)
                || length < 0
                || reader.Remaining < length
            )
            {
                violation = $"reply {i} of {count} is malformed or truncated";
                return false;
            }
            into.Add(new ReplyEntry(id, (ReplyStatus)status, payload.Slice(reader.Position, length)));
            reader.Advance(length);
        }
        if (!reader.End)
        {
            violation = $"{reader.Remaining} stray bytes after {count} replies";
            return false;
        }
        return true;
    }

    /// <summary>The child sends the replies it holds back once they reach this many bytes (see <see cref="FrameBounds.ReplyOverhead"/>).</summary>
    public const int MaxHeldReplyBytes = 256 * 1024;

    /// <summary>The type of the error that replaces a result over <see cref="InitMessage.MaxResultBytes"/>.</summary>
    public const string ResultTooLargeType = "Nursery.ResultTooLarge";

    /// <summary>Starts a Request or Reply frame; returns where the count goes.</summary>
    public static int BeginBatch(FrameBuffer buffer, FrameKind kind)
    {
        buffer.BeginFrame(kind);
        return buffer.ReserveUInt32();
    }

    public static void EndBatch(FrameBuffer buffer, int countAt, int count)
    {
        buffer.PatchUInt32(countAt, (uint)count);
        buffer.EndFrame();
    }

    /// <summary>Writes a reply entry whose payload is already encoded.</summary>
    public static void WriteReply(FrameBuffer buffer, long id, ReplyStatus status, ReadOnlySpan<byte> payload)
    {
        buffer.WriteInt64(id);
        buffer.WriteByte((byte)status);
        buffer.WriteUInt32((uint)payload.Length);
        buffer.Write(payload);
    }

    /// <summary>The type of the error that answers an item the parent asked to stop before the child started it.</summary>
    public const string StoppedType = "Nursery.Stopped";

    /// <summary>The most item ids one Stop frame carries.</summary>
    public const int MaxStopsPerFrame = 4096;

    /// <summary>Writes a Stop frame: <c>[u32 count]</c> then <c>count × [i64 id]</c>.</summary>
    public static void EncodeStops(FrameBuffer buffer, IReadOnlyList<long> ids)
    {
        buffer.BeginFrame(FrameKind.Stop);
        buffer.WriteUInt32((uint)ids.Count);
        foreach (var id in ids)
            buffer.WriteInt64(id);
        buffer.EndFrame();
    }

    /// <summary>Decodes a Stop frame's payload into <paramref name="into"/>; false when it is malformed.</summary>
    public static bool TryDecodeStops(ReadOnlySpan<byte> payload, List<long> into)
    {
        if (payload.Length < 4)
            return false;
        var count = BinaryPrimitives.ReadInt32LittleEndian(payload);
        if (count < 0 || count > MaxStopsPerFrame || payload.Length != 4 + (8L * count))
            return false;
        for (var i = 0; i < count; i++)
            into.Add(BinaryPrimitives.ReadInt64LittleEndian(payload[(4 + (8 * i))..]));
        return true;
    }

    internal static int ReadInt32(ReadOnlySpan<byte> bytes) => BinaryPrimitives.ReadInt32LittleEndian(bytes);
}
