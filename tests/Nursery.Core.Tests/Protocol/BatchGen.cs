using System.Buffers;
using FsCheck;
using FsCheck.Fluent;

namespace Nursery.Protocol.Tests;

/// <summary>One request as the tests see it; equal when id and bytes are equal.</summary>
internal sealed record RequestItem(long Id, byte[] Payload)
{
    public bool Equals(RequestItem? other) => other is not null && Id == other.Id && Payload.AsSpan().SequenceEqual(other.Payload);

    public override int GetHashCode() => HashCode.Combine(Id, Payload.Length);

    public override string ToString() => $"#{Id}[{Wire.Hex(Payload)}]";
}

/// <summary>One reply as the tests see it; equal when id, status and bytes are equal.</summary>
internal sealed record ReplyItem(long Id, ReplyStatus Status, byte[] Payload)
{
    public bool Equals(ReplyItem? other) => other is not null && Id == other.Id && Status == other.Status && Payload.AsSpan().SequenceEqual(other.Payload);

    public override int GetHashCode() => HashCode.Combine(Id, Status, Payload.Length);

    public override string ToString() => $"#{Id} {Status}[{Wire.Hex(Payload)}]";
}

/// <summary>Items, and where the decoder's input is cut into segments (as a pipe hands it over).</summary>
internal sealed record Batched<TItem>(TItem[] Items, int[] Cuts)
{
    public override string ToString() => $"[{string.Join(", ", Items.AsEnumerable())}], segments cut at [{string.Join(", ", Cuts)}]";
}

/// <summary>A batch payload (valid or not), and where it is cut into segments.</summary>
internal sealed record BatchPayload(byte[] Bytes, int[] Cuts)
{
    public ReadOnlySequence<byte> Sequence => Wire.Segmented(Bytes, Cuts);

    public override string ToString() => $"{Bytes.Length} bytes {Wire.Hex(Bytes)}, segments cut at [{string.Join(", ", Cuts)}]";
}

/// <summary>Writing Request and Reply frames the way the worker and the child host do, and taking their payloads back out.</summary>
internal static class Batches
{
    /// <summary>A Request frame as the worker writes it: per item the id, a reserved length, the bytes, then the length patched.</summary>
    public static byte[] RequestFrame(IReadOnlyCollection<RequestItem> items)
    {
        using var buffer = new FrameBuffer(16);
        var countAt = Batch.BeginBatch(buffer, FrameKind.Request);
        foreach (var item in items)
        {
            buffer.WriteInt64(item.Id);
            var lengthAt = buffer.ReserveUInt32();
            buffer.Write(item.Payload);
            buffer.PatchUInt32(lengthAt, (uint)item.Payload.Length);
        }
        Batch.EndBatch(buffer, countAt, items.Count);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>A Reply frame written with <see cref="Batch.WriteReply"/>.</summary>
    public static byte[] ReplyFrame(IReadOnlyCollection<ReplyItem> items)
    {
        using var buffer = new FrameBuffer(16);
        var countAt = Batch.BeginBatch(buffer, FrameKind.Reply);
        foreach (var item in items)
            Batch.WriteReply(buffer, item.Id, item.Status, item.Payload);
        Batch.EndBatch(buffer, countAt, items.Count);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The payload of a frame that is exactly one frame of the given kind; anything else fails the test.</summary>
    public static byte[] PayloadOf(byte[] frame, FrameKind kind)
    {
        var sequence = new ReadOnlySequence<byte>(frame);
        var status = FrameParser.TryParse(sequence, FrameParser.DefaultMaxFrameLength, out var parsedKind, out var payload, out var next, out var violation);
        Assert.True(status == ParseStatus.Frame, $"not a frame: {status} {violation}");
        Assert.Equal(kind, parsedKind);
        Assert.True(sequence.Slice(next).IsEmpty, "bytes after the frame");
        return payload.ToArray();
    }

    public static byte[] RequestPayload(IReadOnlyCollection<RequestItem> items) => PayloadOf(RequestFrame(items), FrameKind.Request);

    public static byte[] ReplyPayload(IReadOnlyCollection<ReplyItem> items) => PayloadOf(ReplyFrame(items), FrameKind.Reply);
}

/// <summary>Generators for batches: readable on their own, each saying what it makes.</summary>
internal static class BatchGen
{
    /// <summary>Small ids, any 64-bit id, and the extremes.</summary>
    public static readonly Gen<long> Id = Gen.Frequency(
        (3, Gen.Choose(0, 1000).Select(id => (long)id)),
        (2, Gen.Choose(int.MinValue, int.MaxValue).Zip(Gen.Choose(int.MinValue, int.MaxValue), (high, low) => ((long)high << 32) | (uint)low)),
        (1, Gen.Elements(long.MinValue, long.MaxValue, -1L, 0L))
    );

    public static readonly Gen<byte[]> Payload = Gen.Frequency((5, WireGen.BytesUpTo(24)), (1, WireGen.BytesUpTo(300)));

    public static readonly Gen<ReplyStatus> Status = Gen.Elements(ReplyStatus.Ok, ReplyStatus.Error);

    public static readonly Gen<RequestItem[]> Requests = Gen.Choose(0, 12).SelectMany(count => Gen.ArrayOf(Id.Zip(Payload, (id, payload) => new RequestItem(id, payload)), count));

    public static readonly Gen<ReplyItem[]> Replies = Gen.Choose(0, 12)
        .SelectMany(count => Gen.ArrayOf(from id in Id from status in Status from payload in Payload select new ReplyItem(id, status, payload), count));

    public static readonly Gen<Batched<RequestItem>> RequestBatch =
        from items in Requests
        from cuts in CutsOf(Batches.RequestPayload(items).Length)
        select new Batched<RequestItem>(items, cuts);

    public static readonly Gen<Batched<ReplyItem>> ReplyBatch =
        from items in Replies
        from cuts in CutsOf(Batches.ReplyPayload(items).Length)
        select new Batched<ReplyItem>(items, cuts);

    /// <summary>Noise, and request payloads that are valid, changed in one byte, cut short or followed by stray bytes.</summary>
    public static readonly Gen<BatchPayload> AnyRequestPayload = AnyPayload(Requests.Select(items => Batches.RequestPayload(items)));

    /// <summary>Noise, and reply payloads that are valid, changed in one byte, cut short or followed by stray bytes.</summary>
    public static readonly Gen<BatchPayload> AnyReplyPayload = AnyPayload(Replies.Select(items => Batches.ReplyPayload(items)));

    /// <summary>Up to five offsets in [0, length] where a sequence of that length is cut into segments.</summary>
    public static Gen<int[]> CutsOf(int length) => Gen.Choose(0, 5).SelectMany(count => Gen.ArrayOf(Gen.Choose(0, length), count));

    private static Gen<BatchPayload> AnyPayload(Gen<byte[]> valid)
    {
        var bytes = Gen.Frequency(
            (2, WireGen.BytesUpTo(80)),
            (2, valid),
            (3, from payload in valid from changed in WireGen.Changed(payload) select changed),
            (2, from payload in valid from cut in Gen.Choose(0, payload.Length - 1) select payload[..cut]),
            (1, from payload in valid from stray in WireGen.BytesUpTo(8) select (byte[])[.. payload, .. stray])
        );
        return from payload in bytes from cuts in CutsOf(payload.Length) select new BatchPayload(payload, cuts);
    }
}
