using System.Buffers;
using LanguageExt;
using Nursery.Launch;
using Nursery.Protocol;

namespace Nursery.Supervision;

/// <summary>
/// How a worker talks to one kind of child: how to start it, what to send before items, how items are written and
/// how the child's output becomes events. <see cref="WorkerCore"/> does the supervision; a wire does the bytes.
/// </summary>
internal abstract class Wire
{
    /// <summary>Why the child cannot be started at all (a missing host, say), checked before anything is spawned.</summary>
    public abstract Option<string> Preflight();

    /// <summary>The command that starts the child; with a cgroup when the child must enter it before running anything.</summary>
    public abstract LaunchSpec Launch(IReadOnlyDictionary<string, string> environment, MemoryCgroup? cgroup);

    /// <summary>Whether the launched command puts itself into the cgroup (else the worker moves it when it says hello).</summary>
    public abstract bool PlacesItselfInCgroup { get; }

    /// <summary>Writes what goes before the first item (may wait for the child's hello); returns false if the start was abandoned.</summary>
    public abstract Task<bool> GreetAsync(Stream stdin, CancellationToken cancellationToken);

    /// <summary>Releases <see cref="GreetAsync"/> when the start is abandoned.</summary>
    public abstract void Abandon();

    /// <summary>Starts a batch of items in <paramref name="buffer"/>; returns a mark for <see cref="EndBatch"/>.</summary>
    public abstract int BeginBatch(FrameBuffer buffer);

    /// <summary>Writes one item; throws if the item cannot be encoded (the caller rolls the buffer back).</summary>
    public abstract void WriteItem(FrameBuffer buffer, PendingItem item);

    /// <summary>Closes a batch of <paramref name="count"/> items.</summary>
    public abstract void EndBatch(FrameBuffer buffer, int mark, int count);

    /// <summary>Reads the child's output to its end, reporting each message; never throws past its boundary.</summary>
    public abstract Task ReadAsync(Stream stdout, IWireListener listener, CancellationToken cancellationToken);

    /// <summary>Whether the child takes the trace contexts of its items before their request (the .NET child host does; a persistent command when its ready line offers it).</summary>
    public virtual bool CarriesTraceContext => false;

    /// <summary>Writes the trace contexts of items about to be written (only when <see cref="CarriesTraceContext"/>).</summary>
    public virtual void WriteTraceContexts(FrameBuffer buffer, IReadOnlyList<ItemTraceContext> contexts) => throw new NotSupportedException("this wire carries no trace context");

    /// <summary>What the child says it last started and finished; not <see cref="ChildProgress.Kept"/> when the wire cannot tell.</summary>
    public virtual ChildProgress Progress() => default;

    /// <summary>Whether the child can be asked to stop an item (its body takes a cancellation token); else stopping an item means killing the child.</summary>
    public virtual bool StopsItems => false;

    /// <summary>Writes a request to stop these items (only when <see cref="StopsItems"/>).</summary>
    public virtual void WriteStops(FrameBuffer buffer, IReadOnlyList<long> ids) => throw new NotSupportedException("this wire cannot stop items");

    /// <summary>The child is ready: files only needed to start it can go.</summary>
    public virtual void Started() { }

    /// <summary>The child is gone and <see cref="Progress"/> has been read for the last time: release what the wire holds.</summary>
    public virtual void Release() { }
}

/// <summary>What a <see cref="Wire"/> reports from a child's output. Methods returning false ask the wire to stop reading.</summary>
internal interface IWireListener
{
    /// <summary>Any message at all arrived (liveness).</summary>
    void Heard();

    /// <summary>The child proved the channel clean and said who it is.</summary>
    bool Hello(int processId);

    /// <summary>The child is ready for items.</summary>
    void Ready();

    /// <summary>The child failed before it was ready (or, after, failed as a whole).</summary>
    void Failed(string phase, RemoteError error);

    /// <summary>A result for an item, encoded by the item's codec.</summary>
    bool Result(long id, in ReadOnlySequence<byte> payload);

    /// <summary>
    /// Results for the items of one reply frame in which every reply is a result: as <see cref="Result"/> for each,
    /// with the worker's books updated once for the frame instead of once per item.
    /// </summary>
    bool Results(List<Protocol.ReplyEntry> replies);

    /// <summary>The body threw for an item.</summary>
    bool Error(long id, RemoteError error);

    /// <summary>A log line from the child (a persistent command's <c>log</c> message).</summary>
    void Log(int level, string text);

    /// <summary>Something that is not the protocol; the child will be killed.</summary>
    void Violation(string detail, byte[] bytesSeen);

    /// <summary>Spans that ended in the child under an item's trace context.</summary>
    void Spans(IReadOnlyList<Protocol.ChildSpan> spans);

    /// <summary>The protocol version does not match.</summary>
    void Incompatible(string reason);
}
