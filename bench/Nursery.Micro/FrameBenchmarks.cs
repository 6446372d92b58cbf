using System.Buffers;
using BenchmarkDotNet.Attributes;
using Nursery.Protocol;

namespace Nursery.Micro;

/// <summary>
/// Frames and batches without a codec: writing a 256-item Request or Reply frame the way the worker and the child
/// host do, decoding one, and reading reply frames from a stream with <see cref="FrameReader"/> (as the worker reads
/// its child's stdout). Payloads are
/// opaque bytes of <see cref="PayloadBytes"/> each (8: an encoded int or so; 10 240: a 10 KiB string).
/// </summary>
[MemoryDiagnoser]
public class FrameBenchmarks
{
    public const int Items = 256;
    private const int FramesInStream = 8;

    private FrameBuffer _buffer = null!;
    private byte[] _payload = [];
    private ReadOnlySequence<byte> _requestFrame, _replyPayload;
    private ReadOnlyMemory<byte> _requestPayload;
    private MemoryStream _stream = null!;
    private readonly RequestEntries _requests = new();
    private readonly List<ReplyEntry> _replies = new(Items);

    [Params(8, Payloads.TenKib)]
    public int PayloadBytes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _payload = [.. Enumerable.Range(0, PayloadBytes).Select(i => (byte)('a' + (i % 26)))];
        _buffer = new FrameBuffer(64 * 1024);
        WriteRequestBatch();
        var requestFrame = _buffer.WrittenSpan.ToArray();
        _requestFrame = new(requestFrame);
        _requestPayload = requestFrame.AsMemory(FrameParser.HeaderLength);
        WriteReplyBatch();
        var replyFrame = _buffer.WrittenSpan.ToArray();
        _replyPayload = new(replyFrame.AsMemory(FrameParser.HeaderLength));
        _stream = new MemoryStream([.. Enumerable.Repeat(replyFrame, FramesInStream).SelectMany(frame => frame)], writable: false);
    }

    [GlobalCleanup]
    public void Cleanup() => _buffer.Dispose();

    /// <summary>The worker's way: per item the id, a reserved length, the bytes, the length patched.</summary>
    [Benchmark]
    public int WriteRequestBatch()
    {
        _buffer.Clear();
        var countAt = Batch.BeginBatch(_buffer, FrameKind.Request);
        for (var id = 0; id < Items; id++)
        {
            _buffer.WriteInt64(id);
            var lengthAt = _buffer.ReserveUInt32();
            var start = _buffer.Length;
            _buffer.Write(_payload);
            _buffer.PatchUInt32(lengthAt, (uint)(_buffer.Length - start));
        }
        Batch.EndBatch(_buffer, countAt, Items);
        return _buffer.Length;
    }

    [Benchmark]
    public int WriteReplyBatch()
    {
        _buffer.Clear();
        var countAt = Batch.BeginBatch(_buffer, FrameKind.Reply);
        for (var id = 0; id < Items; id++)
            Batch.WriteReply(_buffer, id, ReplyStatus.Ok, _payload);
        Batch.EndBatch(_buffer, countAt, Items);
        return _buffer.Length;
    }

    [Benchmark]
    public bool ParseFrameHeader() => FrameParser.TryParse(_requestFrame, FrameParser.DefaultMaxFrameLength, out _, out _, out _, out _) == ParseStatus.Frame;

    [Benchmark]
    public int DecodeRequests()
    {
        _requests.Clear();
        return Batch.TryDecodeRequests(_requestPayload, _requests, out _) ? _requests.Count : -1;
    }

    [Benchmark]
    public int DecodeReplies()
    {
        _replies.Clear();
        return Batch.TryDecodeReplies(_replyPayload, _replies, out _) ? _replies.Count : -1;
    }

    /// <summary>Per frame: a <see cref="FrameReader"/> reads 8 reply frames from a stream, each decoded into its 256 entries.</summary>
    [Benchmark(OperationsPerInvoke = FramesInStream)]
    public async Task<int> ReadAndDecodeReplyFrames()
    {
        _stream.Position = 0;
        var reader = new FrameReader(_stream);
        var items = 0;
        while (true)
        {
            var read = await reader.ReadAsync();
            if (read.Status != ReadStatus.Frame)
                return read.Status == ReadStatus.End ? items : -1;
            _replies.Clear();
            if (!Batch.TryDecodeReplies(read.Payload, _replies, out _))
                return -1;
            items += _replies.Count;
        }
    }
}
