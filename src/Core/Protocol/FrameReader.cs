using System.Buffers;
using System.IO.Pipelines;

namespace Nursery.Protocol;

/// <summary>The outcome of one <see cref="FrameReader.ReadAsync"/>.</summary>
internal enum ReadStatus
{
    /// <summary>A frame; its payload is valid until the next read.</summary>
    Frame,

    /// <summary>The stream ended cleanly between frames (or could no longer be read).</summary>
    End,

    /// <summary>The stream holds something that is not a frame, or ended inside one.</summary>
    Violation,
}

/// <summary>One read: a frame, the end, or a violation with the bytes seen.</summary>
internal readonly record struct ReadResult(ReadStatus Status, FrameKind Kind, ReadOnlySequence<byte> Payload, string Detail, byte[] BytesSeen)
{
    public static ReadResult Ended(string detail) => new(ReadStatus.End, default, default, detail, []);
}

/// <summary>
/// Reads frames from a stream with pooled buffers. Never throws past its boundary (I/O errors are an end,
/// bad bytes a violation) and never waits for more bytes than a frame's declared length, which its kind's
/// bound (<see cref="FrameBounds"/>) limits.
/// After an end or a violation every further read returns the same outcome.
/// </summary>
internal sealed class FrameReader
{
    private const int BytesShown = 64;
    private readonly PipeReader _reader;
    private readonly FrameBounds _bounds;
    private SequencePosition? _consumed;
    private ReadOnlySequence<byte> _buffer;
    private bool _holdingBuffer;
    private ReadResult? _terminal;

    public FrameReader(Stream stream, int maxFrameLength = FrameParser.DefaultMaxFrameLength)
        : this(stream, FrameBounds.AnyKind(maxFrameLength)) { }

    /// <summary>A reader that holds each kind of frame to its bound in <paramref name="bounds"/>.</summary>
    public FrameReader(Stream stream, FrameBounds bounds)
    {
        _reader = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 64 * 1024, minimumReadSize: 16 * 1024, leaveOpen: true));
        _bounds = bounds;
    }

    /// <summary>Total bytes consumed so far, for diagnostics.</summary>
    public long BytesRead { get; private set; }

    public async ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        if (_terminal is { } terminal)
            return terminal;
        try
        {
            if (_consumed is { } consumed)
            {
                _buffer = _buffer.Slice(consumed);
                _consumed = null;
            }
            while (true)
            {
                var status = FrameParser.TryParse(_buffer, _bounds, out var kind, out var payload, out var next, out var violation);
                if (status == ParseStatus.Frame)
                {
                    BytesRead += _buffer.Slice(0, next).Length;
                    _consumed = next;
                    return new ReadResult(ReadStatus.Frame, kind, payload, "", []);
                }
                if (status == ParseStatus.Violation)
                    return Finish(new ReadResult(ReadStatus.Violation, default, default, violation, Head(_buffer)));

                if (_holdingBuffer)
                    _reader.AdvanceTo(_buffer.Start, _buffer.End);
                _holdingBuffer = false;
                var read = await _reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                _buffer = read.Buffer;
                _holdingBuffer = true;
                if (read.IsCompleted && FrameParser.TryParse(_buffer, _bounds, out _, out _, out _, out _) == ParseStatus.NeedMore)
                {
                    return Finish(
                        _buffer.IsEmpty
                            ? ReadResult.Ended("end of stream")
                            : new ReadResult(ReadStatus.Violation, default, default, $"the stream ended inside a frame ({_buffer.Length} bytes of an incomplete frame)", Head(_buffer))
                    );
                }
                if (read.IsCanceled)
                    return Finish(ReadResult.Ended("reading was cancelled"));
            }
        }
        catch (OperationCanceledException)
        {
            return Finish(ReadResult.Ended("reading was cancelled"));
        }
        catch (Exception exception)
        {
            // Whatever the stream throws, the reader's promise holds: an end, never an exception.
            return Finish(ReadResult.Ended($"the stream could not be read: {exception.GetType().Name}: {exception.Message}"));
        }
    }

    private ReadResult Finish(ReadResult result)
    {
        _terminal = result;
        try
        {
            _reader.Complete();
        }
        catch (InvalidOperationException)
        {
            // Completing while a read is pending: nothing more to release.
        }
        return result;
    }

    private static byte[] Head(in ReadOnlySequence<byte> buffer) => buffer.Slice(0, Math.Min(buffer.Length, BytesShown)).ToArray();
}
