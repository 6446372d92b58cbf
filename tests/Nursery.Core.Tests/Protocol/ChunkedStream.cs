namespace Nursery.Protocol.Tests;

/// <summary>How bytes arrive: each read hands out at most the next size of the plan (taken in turn), after a yield when asked.</summary>
/// <param name="ChunkSizes">At most this many bytes per read, cycling; every size is at least 1.</param>
/// <param name="Yields">Whether every asynchronous read first yields, so the reader really waits.</param>
internal sealed record Delivery(IReadOnlyList<int> ChunkSizes, bool Yields)
{
    public static readonly Delivery AllAtOnce = new([int.MaxValue], Yields: false);

    public override string ToString() => $"chunks of at most [{string.Join(", ", ChunkSizes)}] bytes{(Yields ? ", yielding before each read" : "")}";
}

/// <summary>A read-only stream over fixed bytes that hands them out in the small pieces a <see cref="Delivery"/> plans, then ends.</summary>
internal sealed class ChunkedStream(byte[] bytes, Delivery delivery) : Stream
{
    private int _position;
    private int _reads;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var chunk = delivery.ChunkSizes[_reads++ % delivery.ChunkSizes.Count];
        var count = Math.Min(Math.Min(chunk, buffer.Length), bytes.Length - _position);
        bytes.AsSpan(_position, count).CopyTo(buffer);
        _position += count;
        return count;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (delivery.Yields)
            await Task.Yield();
        cancellationToken.ThrowIfCancellationRequested();
        return Read(buffer.Span);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush() { }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
