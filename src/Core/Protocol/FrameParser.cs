using System.Buffers;
using System.Buffers.Binary;

namespace Nursery.Protocol;

/// <summary>What <see cref="FrameParser.TryParse"/> found at the start of a buffer.</summary>
internal enum ParseStatus
{
    /// <summary>A whole frame.</summary>
    Frame,

    /// <summary>The start of a frame; more bytes are needed.</summary>
    NeedMore,

    /// <summary>Bytes that cannot be a frame: a zero or oversized length, or an unknown kind.</summary>
    Violation,
}

/// <summary>
/// Parses <c>[u32 little-endian length][u8 kind][payload]</c> frames from a byte sequence. Pure and total:
/// any input gives a frame, a request for more bytes, or a violation, and it never throws.
/// </summary>
internal static class FrameParser
{
    /// <summary>Bytes before the payload: four of length, one of kind.</summary>
    public const int HeaderLength = 5;

    /// <summary>The largest frame accepted by default (64 MiB of payload).</summary>
    public const int DefaultMaxFrameLength = 64 << 20;

    public static ParseStatus TryParse(
        in ReadOnlySequence<byte> buffer,
        int maxFrameLength,
        out FrameKind kind,
        out ReadOnlySequence<byte> payload,
        out SequencePosition next,
        out string violation
    )
    {
        kind = default;
        payload = default;
        next = buffer.Start;
        violation = "";
        if (buffer.Length < 4)
            return ParseStatus.NeedMore;

        Span<byte> header = stackalloc byte[HeaderLength];
        var available = (int)Math.Min(buffer.Length, HeaderLength);
        buffer.Slice(0, available).CopyTo(header);
        var length = BinaryPrimitives.ReadUInt32LittleEndian(header);
        if (length == 0)
        {
            violation = "a frame of length 0 (every frame has at least a kind byte)";
            return ParseStatus.Violation;
        }
        if (length > (uint)maxFrameLength + 1)
        {
            violation = $"a frame length of {length} bytes, over the limit of {maxFrameLength + 1L}";
            return ParseStatus.Violation;
        }
        if (available < HeaderLength)
            return ParseStatus.NeedMore;

        var rawKind = header[4];
        if (rawKind is < (byte)FrameKind.Hello or > (byte)FrameKind.Bye)
        {
            violation = $"an unknown frame kind {rawKind}";
            return ParseStatus.Violation;
        }
        if (buffer.Length - 4 < length)
            return ParseStatus.NeedMore;

        kind = (FrameKind)rawKind;
        payload = buffer.Slice(HeaderLength, length - 1);
        next = payload.End;
        return ParseStatus.Frame;
    }
}
