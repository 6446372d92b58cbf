using System.Buffers;
using System.Buffers.Binary;

namespace Nursery.Protocol;

/// <summary>What <c>FrameParser.TryParse</c> found at the start of a buffer.</summary>
internal enum ParseStatus
{
    /// <summary>A whole frame.</summary>
    Frame,

    /// <summary>The start of a frame; more bytes are needed.</summary>
    NeedMore,

    /// <summary>Bytes that cannot be a frame: a zero length, an unknown kind, or a length over the kind's bound.</summary>
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

    /// <summary>Parses with every kind bounded by <paramref name="maxFrameLength"/> bytes of payload.</summary>
    public static ParseStatus TryParse(
        in ReadOnlySequence<byte> buffer,
        int maxFrameLength,
        out FrameKind kind,
        out ReadOnlySequence<byte> payload,
        out SequencePosition next,
        out string violation
    ) => TryParse(buffer, FrameBounds.AnyKind(maxFrameLength), out kind, out payload, out next, out violation);

    /// <summary>
    /// Parses with a bound per kind: a length over the largest bound is a violation from the four length bytes, an
    /// unknown kind or a length over its kind's bound from the five header bytes (the kind named when it has arrived),
    /// before any payload is waited for.
    /// </summary>
    public static ParseStatus TryParse(
        in ReadOnlySequence<byte> buffer,
        FrameBounds bounds,
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
        var rawKind = available < HeaderLength ? (byte)0 : header[4];
        if (length > (uint)bounds.Largest + 1 && !bounds.Carries(rawKind))
        {
            violation = $"a frame length of {length} bytes, over the limit of {bounds.Largest + 1L}";
            return ParseStatus.Violation;
        }
        if (available < HeaderLength)
            return ParseStatus.NeedMore;

        if (rawKind is < (byte)FrameKind.Hello or > (byte)FrameBounds.LastKind)
        {
            violation = $"an unknown frame kind {rawKind} (announcing {length - 1} bytes of payload)";
            return ParseStatus.Violation;
        }
        if (!bounds.Carries(rawKind))
        {
            violation = $"a {(FrameKind)rawKind} frame, a kind this side never sends (announcing {length - 1} bytes of payload)";
            return ParseStatus.Violation;
        }
        var max = bounds.MaxPayload((FrameKind)rawKind);
        if (length - 1 > (uint)max)
        {
            var advice = rawKind == (byte)FrameKind.Reply && bounds.ReplyAdvice.Length > 0 ? $"; {bounds.ReplyAdvice}" : "";
            violation = $"a {(FrameKind)rawKind} frame announcing {length - 1} bytes of payload, over the limit of {max} bytes for {(FrameKind)rawKind} frames{advice}";
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
