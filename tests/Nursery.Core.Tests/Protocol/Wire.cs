using System.Buffers;
using System.Buffers.Binary;

namespace Nursery.Protocol.Tests;

/// <summary>A frame as the tests see it: its kind and a copy of its payload. Equal when kind and bytes are equal.</summary>
internal sealed record WireFrame(FrameKind Kind, byte[] Payload)
{
    /// <summary>Bytes on the wire: header and payload.</summary>
    public int Length => FrameParser.HeaderLength + Payload.Length;

    public bool Equals(WireFrame? other) => other is not null && Kind == other.Kind && Payload.AsSpan().SequenceEqual(other.Payload);

    public override int GetHashCode() => HashCode.Combine(Kind, Payload.Length);

    public override string ToString() => $"{Kind}[{Wire.Hex(Payload)}]";
}

/// <summary>What one reader gave: the frames, then the first end or violation (none if the reads ran out first).</summary>
internal sealed record WireRead(IReadOnlyList<WireFrame> Frames, ReadResult? Terminal, int Reads);

/// <summary>Writing frames with <see cref="FrameBuffer"/>, reading them back with <see cref="FrameReader"/>, and bounding it all.</summary>
internal static class Wire
{
    /// <summary>No single property case may take longer than this.</summary>
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Runs an asynchronous property body on the thread pool (FsCheck blocks on the task, so the body must not need the
    /// test's synchronization context) and fails it with a <see cref="TimeoutException"/> if it takes longer than <see cref="Bound"/>.
    /// </summary>
    public static Task Within(Func<Task> body) => Task.Run(body).WaitAsync(Bound);

    /// <summary>
    /// Encodes frames one after another. Every other frame is built with BeginFrame, two writes and EndFrame (the length
    /// patched afterwards), the rest with WriteFrame, so both ways of writing are covered.
    /// </summary>
    public static byte[] Encode(IEnumerable<WireFrame> frames)
    {
        using var buffer = new FrameBuffer(16);
        var index = 0;
        foreach (var frame in frames)
        {
            if (index++ % 2 == 0)
            {
                buffer.WriteFrame(frame.Kind, frame.Payload);
                continue;
            }
            var half = frame.Payload.Length / 2;
            buffer.BeginFrame(frame.Kind);
            buffer.Write(frame.Payload.AsSpan(0, half));
            buffer.Write(frame.Payload.AsSpan(half));
            buffer.EndFrame();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The offsets where frames start, and the end: 0, then the end of each frame.</summary>
    public static IReadOnlyList<int> Boundaries(IReadOnlyList<WireFrame> frames)
    {
        var boundaries = new List<int> { 0 };
        foreach (var frame in frames)
            boundaries.Add(boundaries[^1] + frame.Length);
        return boundaries;
    }

    /// <summary>Reads until the first end or violation, or until <paramref name="maxReads"/> reads have been made.</summary>
    public static async Task<WireRead> ReadToTerminalAsync(FrameReader reader, int maxReads)
    {
        var frames = new List<WireFrame>();
        for (var reads = 1; reads <= maxReads; reads++)
        {
            var read = await reader.ReadAsync();
            if (read.Status != ReadStatus.Frame)
                return new WireRead(frames, read, reads);
            frames.Add(new WireFrame(read.Kind, read.Payload.ToArray()));
        }
        return new WireRead(frames, null, maxReads);
    }

    /// <summary>The same bytes as a sequence of several segments, cut at the given offsets (out-of-range cuts are ignored).</summary>
    public static ReadOnlySequence<byte> Segmented(byte[] bytes, IEnumerable<int> cuts)
    {
        var offsets = cuts.Where(cut => cut > 0 && cut < bytes.Length).Append(bytes.Length).Distinct().Order().ToList();
        if (offsets.Count == 1)
            return new ReadOnlySequence<byte>(bytes);
        var first = new Segment(bytes.AsMemory(0, offsets[0]), 0);
        var last = first;
        for (var i = 1; i < offsets.Count; i++)
            last = last.Append(bytes.AsMemory(offsets[i - 1], offsets[i] - offsets[i - 1]));
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    /// <summary>A length as a header holds it: four bytes, little-endian.</summary>
    public static byte[] LittleEndian(uint value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, value);
        return bytes;
    }

    /// <summary>Bytes as hex, shortened after 256 bytes (FsCheck's seed replays the whole case).</summary>
    public static string Hex(ReadOnlySpan<byte> bytes) =>
        bytes.Length <= 256 ? Convert.ToHexString(bytes) : $"{Convert.ToHexString(bytes[..256])}… ({bytes.Length} bytes)";

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
