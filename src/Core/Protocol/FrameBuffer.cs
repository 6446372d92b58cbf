using System.Buffers;
using System.Buffers.Binary;

namespace Nursery.Protocol;

/// <summary>
/// A growable, pooled byte buffer that frames are built in: headers are reserved and patched once the payload
/// length is known, so a batch of items goes out in one write with one copy.
/// </summary>
internal sealed class FrameBuffer : IBufferWriter<byte>, IDisposable
{
    private byte[] _array;
    private int _length;
    private int _frameStart = -1;

    public FrameBuffer(int initialCapacity = 4096) => _array = ArrayPool<byte>.Shared.Rent(initialCapacity);

    /// <summary>Bytes written so far.</summary>
    public int Length => _length;

    public ReadOnlyMemory<byte> WrittenMemory => _array.AsMemory(0, _length);

    public ReadOnlySpan<byte> WrittenSpan => _array.AsSpan(0, _length);

    public void Clear()
    {
        _length = 0;
        _frameStart = -1;
    }

    /// <summary>Starts a frame of the given kind; <see cref="EndFrame"/> patches its length.</summary>
    public void BeginFrame(FrameKind kind)
    {
        if (_frameStart >= 0)
            throw new InvalidOperationException("A frame is already open.");
        _frameStart = _length;
        var header = GetSpan(FrameParser.HeaderLength);
        header[4] = (byte)kind;
        Advance(FrameParser.HeaderLength);
    }

    public void EndFrame()
    {
        if (_frameStart < 0)
            throw new InvalidOperationException("No frame is open.");
        var length = _length - _frameStart - 4;
        BinaryPrimitives.WriteUInt32LittleEndian(_array.AsSpan(_frameStart, 4), (uint)length);
        _frameStart = -1;
    }

    /// <summary>Writes a whole frame with the given payload.</summary>
    public void WriteFrame(FrameKind kind, ReadOnlySpan<byte> payload)
    {
        BeginFrame(kind);
        Write(payload);
        EndFrame();
    }

    /// <summary>Reserves four bytes for a length and returns where they are.</summary>
    public int ReserveUInt32()
    {
        var at = _length;
        GetSpan(4);
        Advance(4);
        return at;
    }

    public void PatchUInt32(int at, uint value) => BinaryPrimitives.WriteUInt32LittleEndian(_array.AsSpan(at, 4), value);

    public void WriteUInt32(uint value)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(GetSpan(4), value);
        Advance(4);
    }

    public void WriteInt64(long value)
    {
        BinaryPrimitives.WriteInt64LittleEndian(GetSpan(8), value);
        Advance(8);
    }

    public void WriteByte(byte value)
    {
        GetSpan(1)[0] = value;
        Advance(1);
    }

    public void Write(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(GetSpan(bytes.Length));
        Advance(bytes.Length);
    }

    /// <summary>Drops everything written after <paramref name="length"/> (used to undo a half-written item).</summary>
    public void Truncate(int length)
    {
        if (length < 0 || length > _length)
            throw new ArgumentOutOfRangeException(nameof(length));
        _length = length;
    }

    public void Advance(int count) => _length += count;

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _array.AsMemory(_length);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _array.AsSpan(_length);
    }

    private void Ensure(int sizeHint)
    {
        var needed = _length + Math.Max(sizeHint, 256);
        if (needed <= _array.Length)
            return;
        var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, _array.Length * 2));
        _array.AsSpan(0, _length).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(_array);
        _array = bigger;
    }

    public void Dispose()
    {
        ArrayPool<byte>.Shared.Return(_array);
        _array = [];
        _length = 0;
    }
}
