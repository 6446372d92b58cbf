using System.Buffers;
using System.IO.Pipelines;

namespace Nursery.Protocol.Tests;

/// <summary>
/// Every kind a child sends has a length bound, checked from the five header bytes alone: a reader given a header
/// over its kind's bound (and nothing after it) reports the violation at once instead of waiting for the payload.
/// </summary>
public sealed class FrameBoundsTests
{
    private const int MaxResult = 1 << 20;

    public static TheoryData<byte, int> OverTheirBound =>
        new()
        {
            { (byte)FrameKind.Hello, FrameBounds.MaxHelloPayload + 1 },
            { (byte)FrameKind.Ready, 1 },
            { (byte)FrameKind.Heartbeat, 1000 },
            { (byte)FrameKind.Reply, MaxResult + FrameBounds.ReplyOverhead + 1 },
            { (byte)FrameKind.Error, MaxResult + FrameBounds.ReplyOverhead + 1 },
            { (byte)FrameKind.Spans, FrameBounds.MaxSpansPayload + 1 },
        };

    [Theory]
    [MemberData(nameof(OverTheirBound))]
    public async Task A_header_over_its_kinds_bound_is_a_violation_naming_the_kind_the_length_and_the_bound_without_waiting_for_the_payload(byte kindByte, int payloadBytes)
    {
        var kind = (FrameKind)kindByte;
        var pipe = new Pipe();
        await pipe.Writer.WriteAsync(Header((uint)payloadBytes + 1, (byte)kind));
        var reader = new FrameReader(pipe.Reader.AsStream(), FrameBounds.FromChild(MaxResult));

        var read = await reader.ReadAsync().AsTask().WaitAsync(Wire.Bound);

        var bound = FrameBounds.FromChild(MaxResult).MaxPayload(kind);
        Assert.Equal(ReadStatus.Violation, read.Status);
        Assert.Contains($"a {kind} frame announcing {payloadBytes} bytes of payload, over the limit of {bound} bytes", read.Detail, StringComparison.Ordinal);
        Assert.Equal(Header((uint)payloadBytes + 1, (byte)kind), read.BytesSeen);
    }

    [Fact]
    public async Task A_reply_over_its_bound_names_the_option_that_bounds_results_and_what_to_do()
    {
        var pipe = new Pipe();
        await pipe.Writer.WriteAsync(Header(100 << 20, (byte)FrameKind.Reply));
        var reader = new FrameReader(pipe.Reader.AsStream(), FrameBounds.FromChild(MaxResult));

        var read = await reader.ReadAsync().AsTask().WaitAsync(Wire.Bound);

        Assert.Equal(ReadStatus.Violation, read.Status);
        Assert.Contains("WorkerOptions.MaxResultBytes", read.Detail, StringComparison.Ordinal);
        Assert.Contains("return a path or a reference", read.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData((byte)FrameKind.Init)]
    [InlineData((byte)FrameKind.Request)]
    [InlineData((byte)FrameKind.TraceContext)]
    public async Task A_kind_only_a_parent_sends_is_a_violation_from_the_header(byte kindByte)
    {
        var kind = (FrameKind)kindByte;
        var pipe = new Pipe();
        await pipe.Writer.WriteAsync(Header(10, (byte)kind));
        var reader = new FrameReader(pipe.Reader.AsStream(), FrameBounds.FromChild(MaxResult));

        var read = await reader.ReadAsync().AsTask().WaitAsync(Wire.Bound);

        Assert.Equal(ReadStatus.Violation, read.Status);
        Assert.Contains($"a {kind} frame, a kind this side never sends", read.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData((byte)0)]
    [InlineData((byte)11)]
    [InlineData((byte)255)]
    public async Task An_unknown_kind_is_a_violation_from_the_header(byte kind)
    {
        var pipe = new Pipe();
        await pipe.Writer.WriteAsync(Header(10, kind));
        var reader = new FrameReader(pipe.Reader.AsStream(), FrameBounds.FromChild(MaxResult));

        var read = await reader.ReadAsync().AsTask().WaitAsync(Wire.Bound);

        Assert.Equal(ReadStatus.Violation, read.Status);
        Assert.Contains($"an unknown frame kind {kind}", read.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData((byte)FrameKind.Hello, FrameBounds.MaxHelloPayload)]
    [InlineData((byte)FrameKind.Heartbeat, 0)]
    [InlineData((byte)FrameKind.Reply, MaxResult + FrameBounds.ReplyOverhead)]
    [InlineData((byte)FrameKind.Spans, FrameBounds.MaxSpansPayload)]
    public void A_header_at_its_kinds_bound_waits_for_its_payload(byte kindByte, int payloadBytes)
    {
        var kind = (FrameKind)kindByte;
        var header = new ReadOnlySequence<byte>(Header((uint)payloadBytes + 1, (byte)kind));

        var status = FrameParser.TryParse(header, FrameBounds.FromChild(MaxResult), out var parsed, out _, out _, out var violation);

        Assert.Equal(payloadBytes == 0 ? ParseStatus.Frame : ParseStatus.NeedMore, status);
        Assert.Equal("", violation);
        if (payloadBytes == 0)
            Assert.Equal(kind, parsed);
    }

    private static byte[] Header(uint length, byte kind)
    {
        var header = new byte[5];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(header, length);
        header[4] = kind;
        return header;
    }
}
