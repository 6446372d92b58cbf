using System.Buffers;
using Nursery.Protocol;

namespace Nursery.ChildHost;

/// <summary>
/// One Request frame on its way from the receiver thread to the serving thread: its payload read from the pipe into a
/// pooled buffer, and its decoded entries, which point into that buffer. Frames are recycled, so a steady
/// stream of requests allocates nothing per frame and nothing per item.
/// </summary>
internal sealed class RequestFrame
{
    /// <summary>A buffer larger than this goes back to the shared pool after its frame, not kept for the next one.</summary>
    private const int KeptBytes = 1 << 20;

    /// <summary>Recycled frames, linked through <see cref="Next"/> under <see cref="FreeGate"/> (one lock per frame, not per item).</summary>
    private static RequestFrame? _free;

    private static readonly Lock FreeGate = new();
    private byte[] _bytes = [];

    private RequestFrame() { }

    /// <summary>The next frame in the work queue or the free list; a frame is in at most one of them.</summary>
    public RequestFrame? Next { get; set; }

    /// <summary>The requests, in the order the parent sent them; valid until <see cref="Recycle"/>.</summary>
    public RequestEntries Entries { get; } = new();

    /// <summary>
    /// The next <paramref name="length"/> bytes of <paramref name="source"/> read into a pooled buffer and decoded;
    /// null, with the reason, when the input ends first or the payload is not a valid request batch.
    /// </summary>
    public static RequestFrame? TryRead(FrameSource source, int length, out string problem)
    {
        RequestFrame? frame;
        lock (FreeGate)
        {
            frame = _free;
            if (frame is not null)
                _free = frame.Next;
        }
        frame ??= new RequestFrame();
        frame.Next = null;
        if (frame._bytes.Length < length)
        {
            frame.ReturnBytes();
            frame._bytes = ArrayPool<byte>.Shared.Rent(length);
        }
        problem = "";
        if (!source.ReadPayload(frame._bytes.AsSpan(0, length)))
            problem = $"the stream ended inside a frame (a Request frame of {length} bytes)";
        else if (!Batch.TryDecodeRequests(frame._bytes.AsMemory(0, length), frame.Entries, out _))
            problem = "a malformed Request frame";
        else
            return frame;
        frame.Recycle();
        return null;
    }

    /// <summary>Gives the frame back once its last item has run; its entries must not be used after this.</summary>
    public void Recycle()
    {
        Entries.Clear();
        if (_bytes.Length > KeptBytes)
            ReturnBytes();
        lock (FreeGate)
        {
            Next = _free;
            _free = this;
        }
    }

    private void ReturnBytes()
    {
        if (_bytes.Length > 0)
            ArrayPool<byte>.Shared.Return(_bytes);
        _bytes = [];
    }
}
