namespace Nursery.Protocol;

/// <summary>
/// The largest payload each frame kind may carry on one channel. A header that announces more than its kind's bound,
/// or a kind the channel never carries, is a violation from the header alone: the reader never waits for bytes that
/// cannot form an acceptable frame (a heartbeat header announcing a megabyte would otherwise swallow the heartbeats that
/// follow it, and the reader would wait for bytes that never come).
/// </summary>
internal sealed class FrameBounds
{
    /// <summary>A hello names the protocol, a pid, a runtime, a host and a job id: a few hundred bytes.</summary>
    public const int MaxHelloPayload = (64 * 1024) - 1;

    /// <summary>
    /// What a reply frame carries besides its largest entry: the count, the entry headers and the replies of earlier
    /// items held with it (the child sends them once they reach 256 KiB, <see cref="Batch.MaxHeldReplyBytes"/>).
    /// </summary>
    public const int ReplyOverhead = 1 << 20;

    /// <summary>The default for <see cref="FromChild"/>'s result bound: 64 MiB.</summary>
    public const int DefaultMaxResultBytes = 64 << 20;

    /// <summary>The largest result bound a worker may be given: 1 GiB (a frame's length is a 32-bit number, and buffers are arrays).</summary>
    public const int LargestMaxResultBytes = 1 << 30;

    /// <summary>The highest kind byte either side sends.</summary>
    public const FrameKind LastKind = FrameKind.Spans;

    /// <summary>The spans a child sends for one item: its body's own, a few hundred bytes each.</summary>
    public const int MaxSpansPayload = 16 << 20;

    private const int NotCarried = -1;
    private static readonly FrameBounds DefaultUniform = new(Uniform(FrameParser.DefaultMaxFrameLength), "");

    private readonly int[] _maxPayload;

    private FrameBounds(int[] maxPayload, string replyAdvice)
    {
        _maxPayload = maxPayload;
        ReplyAdvice = replyAdvice;
        Largest = LargestOf(maxPayload);
    }

    /// <summary>The largest payload of any kind.</summary>
    public int Largest { get; }

    /// <summary>What to do when a reply is over its bound (names the option that sets it), or empty.</summary>
    public string ReplyAdvice { get; }

    /// <summary>Every kind may carry up to <paramref name="maxPayload"/> bytes (the child host reading its parent's frames; tests).</summary>
    public static FrameBounds AnyKind(int maxPayload) =>
        maxPayload == FrameParser.DefaultMaxFrameLength ? DefaultUniform : new(Uniform(maxPayload), "");

    /// <summary>
    /// What a parent accepts from a child host: small fixed bounds for the control frames (a hello up to 64 KiB; ready,
    /// heartbeat empty), the result bound plus <see cref="ReplyOverhead"/> for replies and errors,
    /// and nothing of the kinds only a parent sends (init, request).
    /// </summary>
    public static FrameBounds FromChild(int maxResultBytes)
    {
        var large = maxResultBytes + ReplyOverhead;
        var bounds = new int[(int)LastKind + 1];
        Array.Fill(bounds, NotCarried);
        bounds[(int)FrameKind.Hello] = MaxHelloPayload;
        bounds[(int)FrameKind.Ready] = 0;
        bounds[(int)FrameKind.Reply] = large;
        bounds[(int)FrameKind.Error] = large;
        bounds[(int)FrameKind.Heartbeat] = 0;
        bounds[(int)FrameKind.Spans] = MaxSpansPayload;
        return new(bounds, $"one item's result may be at most {maxResultBytes} bytes once encoded (WorkerOptions.MaxResultBytes): raise WorkerOptions.MaxResultBytes, or return a path or a reference to the data instead of the data");
    }

    /// <summary>Whether this channel carries <paramref name="rawKind"/> at all.</summary>
    public bool Carries(byte rawKind) => rawKind < _maxPayload.Length && _maxPayload[rawKind] != NotCarried;

    /// <summary>The largest payload of a kind this channel carries.</summary>
    public int MaxPayload(FrameKind kind) => _maxPayload[(int)kind];

    /// <summary>
    /// The largest bound, by a plain loop: this runs in every fresh child before it reads its first frame, where LINQ's
    /// Max would load System.Linq and JIT-compile its vectorised path.
    /// </summary>
    private static int LargestOf(int[] maxPayload)
    {
        var largest = int.MinValue;
        foreach (var bound in maxPayload)
            largest = Math.Max(largest, bound);
        return largest;
    }

        private static int[] Uniform(int maxPayload)
    {
        var bounds = new int[(int)LastKind + 1];
        for (var kind = 1; kind < bounds.Length; kind++)
            bounds[kind] = maxPayload;
        bounds[0] = NotCarried;
        return bounds;
    }
}
