using System.Text;
using BenchmarkDotNet.Attributes;

namespace Nursery.Micro;

/// <summary>
/// The floor under any codec's 10 KiB string: transcoding it to UTF-8 into a reused buffer, and making a new string
/// from UTF-8 bytes. A codec cannot encode or decode the string faster than this.
/// </summary>
[MemoryDiagnoser]
public class Utf8FloorBenchmarks
{
    private readonly byte[] _buffer = new byte[4 * Payloads.TenKib];
    private byte[] _ascii = [], _mixed = [];

    [GlobalSetup]
    public void Setup()
    {
        _ascii = Encoding.UTF8.GetBytes(Payloads.AsciiText);
        _mixed = Encoding.UTF8.GetBytes(Payloads.MixedText);
    }

    [Benchmark]
    public int EncodeAscii10KiB() => Encoding.UTF8.GetBytes(Payloads.AsciiText, _buffer);

    [Benchmark]
    public string DecodeAscii10KiB() => Encoding.UTF8.GetString(_ascii);

    [Benchmark]
    public int EncodeNonAscii10KiB() => Encoding.UTF8.GetBytes(Payloads.MixedText, _buffer);

    [Benchmark]
    public string DecodeNonAscii10KiB() => Encoding.UTF8.GetString(_mixed);
}
