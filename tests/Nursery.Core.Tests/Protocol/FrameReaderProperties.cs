using System.IO.Pipelines;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Nursery.Protocol.Tests;

/// <summary>
/// What <see cref="FrameReader"/> guarantees for any bytes, however they arrive: frames, then exactly one end or violation,
/// never an exception and never a wait for bytes a frame does not need. A failing case prints FsCheck's seed (replay it with
/// <c>[Property(Replay = "…")]</c>) and the case itself: the bytes in hex, the limit and the chunk plan.
/// </summary>
public sealed class FrameReaderProperties
{
    [Property(MaxTest = 300, QuietOnSuccess = true)]
    public Property Any_bytes_in_any_chunks_give_frames_then_one_end_or_violation_within_one_read_per_byte_plus_two() =>
        Prop.ForAll(
            Arb.From(WireGen.AnyBytes),
            input =>
                Wire.Within(async () =>
                {
                    var reader = new FrameReader(new ChunkedStream(input.Bytes, input.Delivery), input.MaxFrameLength);

                    var read = await Wire.ReadToTerminalAsync(reader, maxReads: input.Bytes.Length + 2);

                    Assert.NotNull(read.Terminal);
                    Assert.Equal(read.Frames.Count + 1, read.Reads);
                })
        );

    [Property(MaxTest = 200, QuietOnSuccess = true)]
    public Property After_an_end_or_a_violation_every_further_read_returns_the_same_outcome() =>
        Prop.ForAll(
            Arb.From(WireGen.AnyBytes),
            input =>
                Wire.Within(async () =>
                {
                    var reader = new FrameReader(new ChunkedStream(input.Bytes, input.Delivery), input.MaxFrameLength);
                    var terminal = (await Wire.ReadToTerminalAsync(reader, maxReads: input.Bytes.Length + 2)).Terminal!.Value;

                    var again = new[] { await reader.ReadAsync(), await reader.ReadAsync(), await reader.ReadAsync() };

                    Assert.All(again, read => Assert.Equal(terminal.Status, read.Status));
                    Assert.All(again, read => Assert.Equal(terminal.Detail, read.Detail));
                    Assert.All(again, read => Assert.Equal(terminal.BytesSeen, read.BytesSeen));
                })
        );

    [Property(MaxTest = 200, QuietOnSuccess = true)]
    public Property How_the_bytes_are_chunked_changes_neither_the_frames_nor_how_the_stream_ends() =>
        Prop.ForAll(
            Arb.From(WireGen.AnyBytes),
            input =>
                Wire.Within(async () =>
                {
                    using var whole = new MemoryStream(input.Bytes);
                    var atOnce = await Wire.ReadToTerminalAsync(new FrameReader(whole, input.MaxFrameLength), input.Bytes.Length + 2);

                    var chunked = await Wire.ReadToTerminalAsync(
                        new FrameReader(new ChunkedStream(input.Bytes, input.Delivery), input.MaxFrameLength),
                        input.Bytes.Length + 2
                    );

                    Assert.Equal(atOnce.Frames, chunked.Frames);
                    Assert.Equal(atOnce.Terminal?.Status, chunked.Terminal?.Status);
                })
        );

    [Property(MaxTest = 200, QuietOnSuccess = true)]
    public Property Frames_written_with_FrameBuffer_are_read_back_exactly_then_the_end() =>
        Prop.ForAll(
            Arb.From(WireGen.FramesArriving),
            input =>
                Wire.Within(async () =>
                {
                    var bytes = Wire.Encode(input.Frames);
                    var reader = new FrameReader(new ChunkedStream(bytes, input.Delivery));

                    var read = await Wire.ReadToTerminalAsync(reader, maxReads: bytes.Length + 2);

                    Assert.Equal(input.Frames, read.Frames);
                    Assert.Equal(ReadStatus.End, read.Terminal?.Status);
                })
        );

    [Property(MaxTest = 100, QuietOnSuccess = true)]
    public Property BytesRead_counts_the_header_and_payload_of_every_frame_read() =>
        Prop.ForAll(
            Arb.From(WireGen.FramesArriving),
            input =>
                Wire.Within(async () =>
                {
                    var bytes = Wire.Encode(input.Frames);
                    var reader = new FrameReader(new ChunkedStream(bytes, input.Delivery));

                    await Wire.ReadToTerminalAsync(reader, maxReads: bytes.Length + 2);

                    Assert.Equal(bytes.Length, reader.BytesRead);
                })
        );

    [Property(MaxTest = 200, QuietOnSuccess = true)]
    public Property A_stream_cut_inside_a_frame_gives_the_frames_before_the_cut_then_a_violation() =>
        Prop.ForAll(
            Arb.From(WireGen.CutInsideAFrame),
            input =>
                Wire.Within(async () =>
                {
                    var bytes = input.Bytes;
                    var reader = new FrameReader(new ChunkedStream(bytes, input.Delivery));

                    var read = await Wire.ReadToTerminalAsync(reader, maxReads: bytes.Length + 2);

                    Assert.Equal(input.Frames.Take(input.WholeFrames), read.Frames);
                    Assert.Equal(ReadStatus.Violation, read.Terminal?.Status);
                    Assert.Contains("ended inside a frame", read.Terminal?.Detail, StringComparison.Ordinal);
                })
        );

    [Property(MaxTest = 200, QuietOnSuccess = true)]
    public Property A_stream_cut_between_frames_gives_the_frames_before_the_cut_then_the_end() =>
        Prop.ForAll(
            Arb.From(WireGen.CutBetweenFrames),
            input =>
                Wire.Within(async () =>
                {
                    var bytes = input.Bytes;
                    var reader = new FrameReader(new ChunkedStream(bytes, input.Delivery));

                    var read = await Wire.ReadToTerminalAsync(reader, maxReads: bytes.Length + 2);

                    Assert.Equal(input.Frames.Take(input.WholeFrames), read.Frames);
                    Assert.Equal(ReadStatus.End, read.Terminal?.Status);
                })
        );

    /// <summary>The pipe's writer is never completed: a reader that waited for the announced payload would wait forever.</summary>
    [Property(MaxTest = 100, QuietOnSuccess = true)]
    public Property A_length_over_the_limit_is_a_violation_at_once_without_waiting_for_the_payload() =>
        Prop.ForAll(
            Arb.From(WireGen.OversizedHeader),
            header =>
                Wire.Within(async () =>
                {
                    var pipe = new Pipe();
                    await pipe.Writer.WriteAsync(header.Bytes);
                    var reader = new FrameReader(pipe.Reader.AsStream(), header.MaxFrameLength);

                    var read = await reader.ReadAsync();

                    Assert.Equal(ReadStatus.Violation, read.Status);
                    Assert.Contains("over the limit", read.Detail, StringComparison.Ordinal);
                    Assert.Equal(header.Bytes, read.BytesSeen);
                })
        );

    /// <summary>The bytes seen are those read so far from the bad frame on: at least its header, at most 64.</summary>
    [Property(MaxTest = 200, QuietOnSuccess = true)]
    public Property An_unknown_kind_byte_is_a_violation_that_shows_the_bytes_from_that_frame_on() =>
        Prop.ForAll(
            Arb.From(WireGen.UnknownKindFrame),
            input =>
                Wire.Within(async () =>
                {
                    using var stream = new MemoryStream(input.Bytes);
                    var reader = new FrameReader(stream);

                    var read = await Wire.ReadToTerminalAsync(reader, maxReads: input.Bytes.Length + 2);

                    Assert.Equal(input.Before, read.Frames);
                    Assert.Equal(ReadStatus.Violation, read.Terminal?.Status);
                    Assert.Contains($"unknown frame kind {input.Kind}", read.Terminal?.Detail, StringComparison.Ordinal);
                    var seen = read.Terminal?.BytesSeen ?? [];
                    Assert.InRange(seen.Length, FrameParser.HeaderLength, 64);
                    Assert.Equal(input.BadBytes.Take(seen.Length), seen);
                })
        );

    /// <summary>The bytes seen are those read so far from the bad frame on: at least its length, at most 64.</summary>
    [Property(MaxTest = 200, QuietOnSuccess = true)]
    public Property A_zero_length_is_a_violation_that_shows_the_bytes_from_that_frame_on() =>
        Prop.ForAll(
            Arb.From(WireGen.ZeroLengthFrame),
            input =>
                Wire.Within(async () =>
                {
                    using var stream = new MemoryStream(input.Bytes);
                    var reader = new FrameReader(stream);

                    var read = await Wire.ReadToTerminalAsync(reader, maxReads: input.Bytes.Length + 2);

                    Assert.Equal(input.Before, read.Frames);
                    Assert.Equal(ReadStatus.Violation, read.Terminal?.Status);
                    Assert.Contains("length 0", read.Terminal?.Detail, StringComparison.Ordinal);
                    var seen = read.Terminal?.BytesSeen ?? [];
                    Assert.InRange(seen.Length, 4, 64);
                    Assert.Equal(input.BadBytes.Take(seen.Length), seen);
                })
        );

    [Fact]
    public async Task An_empty_stream_is_the_end()
    {
        using var stream = new MemoryStream();
        var reader = new FrameReader(stream);

        var read = await reader.ReadAsync().AsTask().WaitAsync(Wire.Bound);

        Assert.Equal(ReadStatus.End, read.Status);
        Assert.Equal("end of stream", read.Detail);
    }

    [Fact]
    public async Task A_payload_as_long_as_the_limit_is_a_frame()
    {
        var frame = new WireFrame(FrameKind.Reply, new byte[16]);
        using var stream = new MemoryStream(Wire.Encode([frame]));
        var reader = new FrameReader(stream, maxFrameLength: 16);

        var read = await Wire.ReadToTerminalAsync(reader, maxReads: 3).WaitAsync(Wire.Bound);

        Assert.Equal([frame], read.Frames);
        Assert.Equal(ReadStatus.End, read.Terminal?.Status);
    }

    [Fact]
    public async Task A_payload_one_byte_over_the_limit_is_a_violation()
    {
        using var stream = new MemoryStream(Wire.Encode([new WireFrame(FrameKind.Reply, new byte[17])]));
        var reader = new FrameReader(stream, maxFrameLength: 16);

        var read = await reader.ReadAsync().AsTask().WaitAsync(Wire.Bound);

        Assert.Equal(ReadStatus.Violation, read.Status);
        Assert.Contains("a Reply frame announcing 17 bytes of payload, over the limit of 16 bytes for Reply frames", read.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_length_over_the_limit_is_refused_before_the_kind_byte_arrives()
    {
        var pipe = new Pipe();
        await pipe.Writer.WriteAsync(Wire.LittleEndian(1000));
        var reader = new FrameReader(pipe.Reader.AsStream(), maxFrameLength: 16);

        var read = await reader.ReadAsync().AsTask().WaitAsync(Wire.Bound);

        Assert.Equal(ReadStatus.Violation, read.Status);
        Assert.Equal(Wire.LittleEndian(1000), read.BytesSeen);
    }

    [Fact]
    public async Task A_stream_that_fails_with_an_IOException_is_the_end()
    {
        var pipe = new Pipe();
        await pipe.Writer.WriteAsync(Wire.Encode([new WireFrame(FrameKind.Heartbeat, [])]));
        var reader = new FrameReader(pipe.Reader.AsStream());
        var first = await reader.ReadAsync().AsTask().WaitAsync(Wire.Bound);

        await pipe.Writer.CompleteAsync(new IOException("the pipe broke"));
        var read = await reader.ReadAsync().AsTask().WaitAsync(Wire.Bound);

        Assert.Equal(ReadStatus.Frame, first.Status);
        Assert.Equal(ReadStatus.End, read.Status);
        Assert.Contains("the pipe broke", read.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancelling_a_waiting_read_ends_the_reader_for_good()
    {
        var pipe = new Pipe();
        var reader = new FrameReader(pipe.Reader.AsStream());
        using var cancellation = new CancellationTokenSource();
        var waiting = reader.ReadAsync(cancellation.Token).AsTask();

        await cancellation.CancelAsync();
        var read = await waiting.WaitAsync(Wire.Bound);
        await pipe.Writer.WriteAsync(Wire.Encode([new WireFrame(FrameKind.Heartbeat, [])]));
        var after = await reader.ReadAsync().AsTask().WaitAsync(Wire.Bound);

        Assert.Equal(ReadStatus.End, read.Status);
        Assert.Contains("cancelled", read.Detail, StringComparison.Ordinal);
        Assert.Equal(read, after);
    }
}
