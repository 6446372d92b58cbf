namespace Nursery.Protocol;

/// <summary>The kind byte of a frame: <c>[u32 length][u8 kind][payload]</c>, length counting the kind byte and the payload.</summary>
internal enum FrameKind : byte
{
    /// <summary>Child → parent, first frame: JSON <see cref="HelloMessage"/> (magic, protocol version, pid).</summary>
    Hello = 1,

    /// <summary>Parent → child: JSON <see cref="InitMessage"/> (the body, the initializer and its state, heartbeat interval).</summary>
    Init = 2,

    /// <summary>Child → parent: the initializer ran, requests may follow. Empty payload.</summary>
    Ready = 3,

    /// <summary>Parent → child: a batch of requests, see <see cref="Batch"/>.</summary>
    Request = 4,

    /// <summary>Child → parent: a batch of replies (results or errors), see <see cref="Batch"/>.</summary>
    Reply = 5,

    /// <summary>Child → parent: an error not tied to an item (start failures); JSON <see cref="ErrorMessage"/>.</summary>
    Error = 6,

    /// <summary>Either way: I am alive. Empty payload.</summary>
    Heartbeat = 7,

    /// <summary>
    /// Parent → child: stop these items, see <see cref="Batch.EncodeStops"/>. The running one has its cancellation
    /// token cancelled; one not yet started is answered with an error of type <see cref="Batch.StoppedType"/> without running.
    /// </summary>
    Stop = 8,

    /// <summary>Parent → child, before the Request frame of its items: the W3C trace context of each traced item, see <see cref="TraceFrames"/>.</summary>
    TraceContext = 9,

    /// <summary>Child → parent, before the reply of its item: the spans that ended in the child under that item's trace context, see <see cref="TraceFrames"/>.</summary>
    Spans = 10,
}
