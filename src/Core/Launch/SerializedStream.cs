namespace Nursery.Launch;

/// <summary>
/// The child's stdin when two writers share it (the worker's items and the parent's heartbeats to a remote child):
/// each write goes out whole under one lock, and after <see cref="CloseAsync"/> nothing more is written.
/// </summary>
internal sealed class SerializedStream(Stream inner) : Stream
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly CancellationTokenSource _closed = new();

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_closed.IsCancellationRequested, this);
            await inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
            await inner.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("the channel is written asynchronously");

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override void Flush() { }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    /// <summary>Writes one frame unless the channel is closed (then does nothing).</summary>
    public async Task WriteFrameAsync(ReadOnlyMemory<byte> frame)
    {
        if (_closed.IsCancellationRequested)
            return;
        try
        {
            await WriteAsync(frame, _closed.Token).ConfigureAwait(false);
        }
        catch (ObjectDisposedException) { }
        catch (OperationCanceledException) { }
    }

    /// <summary>Waits <paramref name="delay"/>; false if the channel closed meanwhile.</summary>
    public async Task<bool> WaitOrClosedAsync(TimeSpan delay)
    {
        try
        {
            await Task.Delay(delay, _closed.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>No write starts after this returns (one in progress finishes first).</summary>
    public async Task CloseAsync()
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            await _closed.CancelAsync().ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }
}
