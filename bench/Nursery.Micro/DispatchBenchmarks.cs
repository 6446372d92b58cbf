using System.Buffers;
using BenchmarkDotNet.Attributes;
using Nursery.Protocol;

namespace Nursery.Micro;

/// <summary>
/// The whole wire path of one 256-item batch in one process, per item: the parent encodes the items into a Request
/// frame; the child parses it, decodes the entries, copies each payload out (as its work queue does), decodes the
/// item, runs the body, encodes the result into a Reply frame; the parent parses that, decodes the entries and each
/// result. What is left out is what the process benchmarks measure: pipes, scheduling and the child's own loop.
/// The child's half mirrors src/ChildHost/Program.cs (ReceiveAsync, AnswerAsync).
/// </summary>
[MemoryDiagnoser]
public class DispatchBenchmarks
{
    private const int Items = FrameBenchmarks.Items;

    private ICodec _codec = null!;
    private FrameBuffer _requestFrame = null!, _replyFrame = null!;
    private readonly RequestEntries _requests = new();
    private readonly List<ReplyEntry> _replies = new(Items);

    [Params("Json", "MessagePack")]
    public string Codec { get; set; } = "Json";

    [GlobalSetup]
    public void Setup()
    {
        _codec = Payloads.Codec(Codec);
        _requestFrame = new FrameBuffer(64 * 1024);
        _replyFrame = new FrameBuffer(64 * 1024);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _requestFrame.Dispose();
        _replyFrame.Dispose();
    }

    /// <summary>Per item: <c>int → int</c> (x * 2).</summary>
    [Benchmark(OperationsPerInvoke = Items)]
    public long Ints() => RoundTrip(static (int id) => id, static (int x) => x * 2, static (int result) => result);

    /// <summary>Per item: a small record echoed.</summary>
    [Benchmark(OperationsPerInvoke = Items)]
    public long Records() => RoundTrip(static (int _) => Payloads.Record, static (LineItem item) => item, static (LineItem result) => result.Quantity);

    /// <summary>Per item: a 10 KiB ASCII string echoed.</summary>
    [Benchmark(OperationsPerInvoke = Items)]
    public long AsciiStrings10KiB() => RoundTrip(static (int _) => Payloads.AsciiText, static (string text) => text, static (string result) => result.Length);

    private long RoundTrip<TIn, TOut>(Func<int, TIn> item, Func<TIn, TOut> body, Func<TOut, long> check)
    {
        // Parent: the Request frame.
        _requestFrame.Clear();
        var countAt = Batch.BeginBatch(_requestFrame, FrameKind.Request);
        for (var id = 0; id < Items; id++)
        {
            _requestFrame.WriteInt64(id);
            var lengthAt = _requestFrame.ReserveUInt32();
            var start = _requestFrame.Length;
            _codec.Serialize(item(id), _requestFrame);
            _requestFrame.PatchUInt32(lengthAt, (uint)(_requestFrame.Length - start));
        }
        Batch.EndBatch(_requestFrame, countAt, Items);

        // Child: parse, decode, run, answer.
        _requests.Clear();
        if (FrameParser.TryParse(new ReadOnlySequence<byte>(_requestFrame.WrittenMemory), FrameParser.DefaultMaxFrameLength, out _, out var requestPayload, out _, out _) != ParseStatus.Frame
            || !Batch.TryDecodeRequests(requestPayload.First, _requests, out _))
            throw new InvalidOperationException("the request frame did not decode");
        _replyFrame.Clear();
        countAt = Batch.BeginBatch(_replyFrame, FrameKind.Reply);
        for (var i = 0; i < _requests.Count; i++)
        {
            var request = _requests[i];
            var payload = request.Payload.ToArray();
            _replyFrame.WriteInt64(request.Id);
            _replyFrame.WriteByte((byte)ReplyStatus.Ok);
            var lengthAt = _replyFrame.ReserveUInt32();
            var start = _replyFrame.Length;
            _codec.Serialize(body(_codec.Deserialize<TIn>(new ReadOnlySequence<byte>(payload))), _replyFrame);
            _replyFrame.PatchUInt32(lengthAt, (uint)(_replyFrame.Length - start));
        }
        Batch.EndBatch(_replyFrame, countAt, _requests.Count);

        // Parent: parse, decode, take each result.
        _replies.Clear();
        if (FrameParser.TryParse(new ReadOnlySequence<byte>(_replyFrame.WrittenMemory), FrameParser.DefaultMaxFrameLength, out _, out var replyPayload, out _, out _) != ParseStatus.Frame
            || !Batch.TryDecodeReplies(replyPayload, _replies, out _))
            throw new InvalidOperationException("the reply frame did not decode");
        long sum = 0;
        foreach (var reply in _replies)
            sum += check(_codec.Deserialize<TOut>(reply.Payload));
        return sum;
    }
}
