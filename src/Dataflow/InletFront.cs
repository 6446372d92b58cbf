using System.Threading.Tasks.Dataflow;

namespace Nursery;

/// <summary>
/// The target face of a block that works from an <see cref="Inlet{T}"/> (a sink, the results): the blocks of its
/// scope write arrays into the inlet directly, and items offered through the public <c>ITargetBlock</c> face wait in a
/// bounded buffer that a forwarder moves into the inlet. Completing the face completes both.
/// </summary>
internal sealed class InletFront<T>
{
    private readonly BufferBlock<Item<T>> _input;

    public InletFront(int boundedCapacity)
    {
        _input = new BufferBlock<Item<T>>(new DataflowBlockOptions { BoundedCapacity = boundedCapacity });
        Inlet = new Inlet<T>(boundedCapacity);
        _ = Inlet.ForwardFromAsync(_input);
    }

    /// <summary>The queue the block's work reads.</summary>
    public Inlet<T> Inlet { get; }

    /// <summary>No more items: the buffer declines offers, and the inlet ends once the forwarder has moved what it held.</summary>
    public void Complete()
    {
        _input.Complete();
        Inlet.Close();
    }

    /// <summary>An offer through the public face, to the buffer.</summary>
    public DataflowMessageStatus Offer(DataflowMessageHeader messageHeader, Item<T> messageValue, ISourceBlock<Item<T>>? source, bool consumeToAccept) =>
        ((ITargetBlock<Item<T>>)_input).OfferMessage(messageHeader, messageValue, source, consumeToAccept);
}
