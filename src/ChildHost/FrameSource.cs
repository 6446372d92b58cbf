using System.Buffers.Binary;
using Nursery.Protocol;

namespace Nursery.ChildHost;

/// <summary>
/// Reads the parent's frames with blocking reads on the calling thread (the receiver's own): no thread pool, no pipe
/// reader, no asynchronous state machines, which a fresh process would have to compile before its first item. Small
/// frames come out of one buffered read together; a large payload goes from the pipe straight into its request
/// frame's buffer.
/// </summary>
internal sealed class FrameSource(Stream input)
{
    private readonly byte[] _buffer = new byte[64 * 1024];
    private readonly byte[] _header = new byte[FrameParser.HeaderLength];
    private int _start;
    private int _end;

    /// <summary>
    /// Reads the next frame's header: its kind and payload length; false at a clean end of input (EOF or a broken
    /// pipe between frames, <paramref name="violation"/> empty) or when a header cannot start a frame or the input ends
    /// inside one (the violation described). Out parameters, not a nullable tuple: that generic struct's methods would
    /// be compiled at run time in every fresh child.
    /// </summary>
    public bool TryReadHeader(out FrameKind kind, out int payloadLength, out string violation)
    {
        violation = "";
        kind = default;
        payloadLength = 0;
        var got = Take(_header);
        if (got == 0)
            return false;
        var status = FrameParser.TryParse(new System.Buffers.ReadOnlySequence<byte>(_header, 0, got), FrameParser.DefaultMaxFrameLength, out _, out _, out _, out violation);
        if (status == ParseStatus.Violation)
            return false;
        if (got < _header.Length)
        {
            violation = $"the stream ended inside a frame ({got} bytes of a header)";
            return false;
        }
        kind = (FrameKind)_header[4];
        payloadLength = (int)(BinaryPrimitives.ReadUInt32LittleEndian(_header) - 1);
        return true;
    }

    /// <summary>Fills <paramref name="into"/> with the next bytes of input; false when the input ended first.</summary>
    public bool ReadPayload(Span<byte> into) => Take(into) == into.Length;

    /// <summary>Reads and drops <paramref name="length"/> bytes; false when the input ended first.</summary>
    public bool Skip(int length)
    {
        Span<byte> scratch = stackalloc byte[256];
        while (length > 0)
        {
            var part = Math.Min(length, scratch.Length);
            if (Take(scratch[..part]) < part)
                return false;
            length -= part;
        }
        return true;
    }

    /// <summary>Copies the next bytes into <paramref name="into"/>: buffered ones first, then from the input; how many there were.</summary>
    private int Take(Span<byte> into)
    {
        var taken = Math.Min(_end - _start, into.Length);
        _buffer.AsSpan(_start, taken).CopyTo(into);
        _start += taken;
        while (taken < into.Length)
        {
            var rest = into[taken..];
            if (rest.Length >= _buffer.Length)
            {
                // A large payload: straight from the pipe into its place.
                var read = Read(rest);
                if (read == 0)
                    return taken;
                taken += read;
                continue;
            }
            _start = 0;
            _end = Read(_buffer);
            if (_end == 0)
                return taken;
            var part = Math.Min(_end, rest.Length);
            _buffer.AsSpan(0, part).CopyTo(rest);
            _start = part;
            taken += part;
        }
        return taken;
    }

    private int Read(Span<byte> into)
    {
        try
        {
            return input.Read(into);
        }
        catch (IOException)
        {
            // A broken channel is an end.
            return 0;
        }
    }
}
