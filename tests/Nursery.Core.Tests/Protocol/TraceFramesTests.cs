using System.Buffers;
using System.Diagnostics;

namespace Nursery.Protocol.Tests;

/// <summary>The two trace frames decode to what was encoded, and decoding a damaged payload says so instead of throwing.</summary>
public sealed class TraceFramesTests
{
    [Fact]
    public void Trace_contexts_and_spans_come_back_as_they_were_written()
    {
        var contexts = new List<ItemTraceContext> { new(7, ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded), new(9, ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.None) };
        var span = new ChildSpan("Body.Source", "body.work ✓", ActivityKind.Client, contexts[0].TraceId, ActivitySpanId.CreateRandom(), contexts[0].SpanId, new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc), TimeSpan.FromMilliseconds(12.5), ActivityStatusCode.Error, "refused", [new("text", "a"), new("count", 3L), new("ratio", 0.25), new("flag", true)]);
        using var buffer = new FrameBuffer();
        TraceFrames.WriteContexts(buffer, contexts);
        var contextsPayload = buffer.WrittenSpan[FrameParser.HeaderLength..].ToArray();
        buffer.Clear();
        TraceFrames.WriteSpans(buffer, [span]);
        var spansPayload = buffer.WrittenSpan[FrameParser.HeaderLength..].ToArray();

        var decodedContexts = new List<ItemTraceContext>();
        var decodedSpans = new List<ChildSpan>();
        Assert.True(TraceFrames.TryDecodeContexts(contextsPayload, decodedContexts));
        Assert.True(TraceFrames.TryDecodeSpans(new ReadOnlySequence<byte>(spansPayload), decodedSpans));

        Assert.Equal(contexts, decodedContexts);
        var decoded = Assert.Single(decodedSpans);
        Assert.Equal(span with { Tags = [] }, decoded with { Tags = [] });
        Assert.Equal(span.Tags, decoded.Tags);
    }

    [Fact]
    public void Every_truncation_of_a_spans_payload_is_refused_without_an_exception()
    {
        var span = new ChildSpan("s", "n", ActivityKind.Internal, ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivitySpanId.CreateRandom(), DateTime.UtcNow, TimeSpan.FromSeconds(1), ActivityStatusCode.Unset, "", [new("k", "v")]);
        using var buffer = new FrameBuffer();
        TraceFrames.WriteSpans(buffer, [span]);
        var payload = buffer.WrittenSpan[FrameParser.HeaderLength..].ToArray();

        for (var length = 0; length < payload.Length; length++)
            Assert.False(TraceFrames.TryDecodeSpans(new ReadOnlySequence<byte>(payload, 0, length), []), $"a payload cut to {length} of {payload.Length} bytes was accepted");
        Assert.False(TraceFrames.TryDecodeContexts(new byte[5], []));
    }
}
