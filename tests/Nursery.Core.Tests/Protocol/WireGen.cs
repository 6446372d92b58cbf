using FsCheck;
using FsCheck.Fluent;

namespace Nursery.Protocol.Tests;

/// <summary>Any bytes, read with a given limit, arriving as planned.</summary>
internal sealed record AnyBytes(byte[] Bytes, int MaxFrameLength, Delivery Delivery)
{
    public override string ToString() => $"{Bytes.Length} bytes {Wire.Hex(Bytes)}, limit {MaxFrameLength}, {Delivery}";
}

/// <summary>Valid frames, arriving as planned.</summary>
internal sealed record FramesArriving(WireFrame[] Frames, Delivery Delivery)
{
    public override string ToString() => $"[{string.Join(", ", Frames.AsEnumerable())}], {Delivery}";
}

/// <summary>Valid frames whose encoding is cut after <paramref name="Cut"/> bytes; <paramref name="WholeFrames"/> of them lie wholly before the cut.</summary>
internal sealed record CutFrames(WireFrame[] Frames, int Cut, int WholeFrames, Delivery Delivery)
{
    public byte[] Bytes => Wire.Encode(Frames)[..Cut];

    public override string ToString() => $"[{string.Join(", ", Frames.AsEnumerable())}] cut after {Cut} bytes ({WholeFrames} whole frames), {Delivery}";
}

/// <summary>Valid frames, then the header of a bad frame (its length and kind), then some of its bytes.</summary>
internal sealed record BadFrame(WireFrame[] Before, uint Length, byte Kind, byte[] Tail)
{
    /// <summary>The bad frame's header and tail, as the reader should show it.</summary>
    public byte[] BadBytes => [.. Wire.LittleEndian(Length), Kind, .. Tail];

    public byte[] Bytes => [.. Wire.Encode(Before), .. BadBytes];

    public override string ToString() => $"[{string.Join(", ", Before.AsEnumerable())}] then length {Length}, kind {Kind}, tail {Wire.Hex(Tail)}";
}

/// <summary>A header announcing <paramref name="Length"/> bytes, over the reader's limit, and nothing after it.</summary>
internal sealed record OversizedHeader(uint Length, byte Kind, int MaxFrameLength)
{
    public byte[] Bytes => [.. Wire.LittleEndian(Length), Kind];

    public override string ToString() => $"length {Length}, kind {Kind}, limit {MaxFrameLength}";
}

/// <summary>Generators for the wire: readable on their own, each saying what it makes.</summary>
internal static class WireGen
{
    public static readonly Gen<byte> Byte = Gen.Choose(0, 255).Select(b => (byte)b);

    public static readonly Gen<FrameKind> Kind = Gen.Elements(Enum.GetValues<FrameKind>());

    /// <summary>A kind byte no frame may carry: 0, or above the last kind.</summary>
    public static readonly Gen<byte> UnknownKind = Gen.Frequency((1, Gen.Constant(0)), (3, Gen.Choose((int)FrameBounds.LastKind + 1, 255))).Select(b => (byte)b);

    /// <summary>Mostly short payloads, sometimes a few hundred bytes, rarely one larger than the reader's 64 KiB pipe buffer.</summary>
    public static readonly Gen<byte[]> Payload = Gen.Frequency((40, BytesUpTo(24)), (12, BytesUpTo(300)), (1, Large));

    public static readonly Gen<WireFrame> Frame = Kind.Zip(Payload, (kind, payload) => new WireFrame(kind, payload));

    public static readonly Gen<WireFrame[]> Frames = Gen.Choose(0, 8).SelectMany(count => Gen.ArrayOf(Frame, count));

    public static readonly Gen<WireFrame[]> SomeFrames = Gen.Choose(1, 8).SelectMany(count => Gen.ArrayOf(Frame, count));

    /// <summary>Mostly a few bytes a read, sometimes dozens or hundreds, rarely more than the reader asks for.</summary>
    public static readonly Gen<int> ChunkSize = Gen.Frequency((6, Gen.Choose(1, 8)), (3, Gen.Choose(9, 300)), (1, Gen.Choose(301, 100_000)));

    public static readonly Gen<Delivery> Delivery =
        from count in Gen.Choose(1, 4)
        from sizes in Gen.ArrayOf(ChunkSize, count)
        from yields in Gen.Elements(false, true)
        select new Delivery(sizes, yields);

    /// <summary>Mostly the default limit; sometimes one so small (down to none at all) that lengths fall on both sides of it.</summary>
    public static readonly Gen<int> MaxFrameLength = Gen.Frequency((3, Gen.Constant(FrameParser.DefaultMaxFrameLength)), (2, Gen.Elements(0, 1, 16, 300)));

    /// <summary>Noise; frames then noise; frames cut anywhere; frames with one byte changed; frames then a short header of any kind.</summary>
    public static readonly Gen<byte[]> AnyByteSequence = Gen.Frequency(
        (2, BytesUpTo(64)),
        (2, from frames in Frames from noise in BytesUpTo(16) select (byte[])[.. Wire.Encode(frames), .. noise]),
        (2, from frames in SomeFrames let bytes = Wire.Encode(frames) from cut in Gen.Choose(0, bytes.Length) select bytes[..cut]),
        (2, from frames in SomeFrames from changed in Changed(Wire.Encode(frames)) select changed),
        (
            2,
            from frames in Frames
            from length in Gen.Choose(0, 40)
            from kind in Byte
            from rest in BytesUpTo(48)
            select (byte[])[.. Wire.Encode(frames), .. Wire.LittleEndian((uint)length), kind, .. rest]
        )
    );

    public static readonly Gen<AnyBytes> AnyBytes =
        from bytes in AnyByteSequence
        from limit in MaxFrameLength
        from delivery in Delivery
        select new AnyBytes(bytes, limit, delivery);

    public static readonly Gen<FramesArriving> FramesArriving = Frames.Zip(Delivery, (frames, delivery) => new FramesArriving(frames, delivery));

    /// <summary>Frames cut strictly inside one of them: in its header or in its payload.</summary>
    public static readonly Gen<CutFrames> CutInsideAFrame =
        from frames in SomeFrames
        from index in Gen.Choose(0, frames.Length - 1)
        from offset in Gen.Choose(1, frames[index].Length - 1)
        from delivery in Delivery
        select new CutFrames(frames, Wire.Boundaries(frames)[index] + offset, index, delivery);

    /// <summary>Frames cut where one ends (or before the first, or after the last).</summary>
    public static readonly Gen<CutFrames> CutBetweenFrames =
        from frames in Frames
        from index in Gen.Choose(0, frames.Length)
        from delivery in Delivery
        select new CutFrames(frames, Wire.Boundaries(frames)[index], index, delivery);

    /// <summary>Frames, then a frame of a valid length with a kind byte no frame may carry.</summary>
    public static readonly Gen<BadFrame> UnknownKindFrame =
        from before in Frames
        from length in Gen.Choose(1, 200)
        from kind in UnknownKind
        from tail in BytesUpTo(100)
        select new BadFrame(before, (uint)length, kind, tail);

    /// <summary>Frames, then a length of zero followed by anything.</summary>
    public static readonly Gen<BadFrame> ZeroLengthFrame =
        from before in Frames
        from kind in Byte
        from tail in BytesUpTo(100)
        select new BadFrame(before, 0, kind, tail);

    public static readonly Gen<OversizedHeader> OversizedHeader =
        from limit in MaxFrameLength
        from length in LengthAbove(limit)
        from kind in Byte
        select new OversizedHeader(length, kind, limit);

    public static Gen<byte[]> BytesUpTo(int max) => Gen.Choose(0, max).SelectMany(count => Gen.ArrayOf(Byte, count));

    /// <summary>A length announced above a limit: just above, far above, or the largest a header can hold.</summary>
    public static Gen<uint> LengthAbove(int maxFrameLength) =>
        Gen.Frequency(
                (3, Gen.Choose(0, 16).Select(excess => maxFrameLength + 2L + excess)),
                (2, Gen.Choose(0, int.MaxValue).Select(excess => maxFrameLength + 2L + excess)),
                (1, Gen.Constant((long)uint.MaxValue))
            )
            .Select(length => (uint)Math.Min(length, uint.MaxValue));

    /// <summary>The bytes with one of them replaced by another value.</summary>
    public static Gen<byte[]> Changed(byte[] bytes) =>
        from at in Gen.Choose(0, bytes.Length - 1)
        from delta in Gen.Choose(1, 255)
        select bytes.Select((b, i) => i == at ? (byte)(b + delta) : b).ToArray();

    /// <summary>Larger than the reader's pipe buffer; a pattern, since generating 64 KiB byte by byte is slow.</summary>
    private static Gen<byte[]> Large =>
        from count in Gen.Choose(65_000, 70_000)
        from seed in Byte
        select Enumerable.Range(0, count).Select(i => (byte)(i * 31 + seed)).ToArray();
}
