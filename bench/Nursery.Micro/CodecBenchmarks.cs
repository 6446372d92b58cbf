using System.Buffers;
using BenchmarkDotNet.Attributes;
using Nursery.Protocol;

namespace Nursery.Micro;

/// <summary>
/// One encode or one decode of a value, through <see cref="ICodec"/> as the worker and the child host call it:
/// encoding into a reused <see cref="FrameBuffer"/>, decoding from a single-segment sequence.
/// </summary>
[MemoryDiagnoser]
public class CodecBenchmarks
{
    private FrameBuffer _output = null!;
    private ICodec _codec = null!;
    private ReadOnlySequence<byte> _int, _record, _ascii, _mixed;

    [Params("Json", "MessagePack")]
    public string Codec { get; set; } = "Json";

    [GlobalSetup]
    public void Setup()
    {
        _codec = Payloads.Codec(Codec);
        _output = new FrameBuffer(64 * 1024);
        _int = new(Payloads.Encode(_codec, 123_456));
        _record = new(Payloads.Encode(_codec, Payloads.Record));
        _ascii = new(Payloads.Encode(_codec, Payloads.AsciiText));
        _mixed = new(Payloads.Encode(_codec, Payloads.MixedText));
    }

    [GlobalCleanup]
    public void Cleanup() => _output.Dispose();

    [Benchmark]
    public int EncodeInt() => Encode(123_456);

    [Benchmark]
    public int DecodeInt() => _codec.Deserialize<int>(_int);

    [Benchmark]
    public int EncodeRecord() => Encode(Payloads.Record);

    [Benchmark]
    public LineItem DecodeRecord() => _codec.Deserialize<LineItem>(_record);

    [Benchmark]
    public int EncodeAscii10KiB() => Encode(Payloads.AsciiText);

    [Benchmark]
    public string DecodeAscii10KiB() => _codec.Deserialize<string>(_ascii);

    [Benchmark]
    public int EncodeNonAscii10KiB() => Encode(Payloads.MixedText);

    [Benchmark]
    public string DecodeNonAscii10KiB() => _codec.Deserialize<string>(_mixed);

    private int Encode<T>(T value)
    {
        _output.Clear();
        _codec.Serialize(value, _output);
        return _output.Length;
    }
}
