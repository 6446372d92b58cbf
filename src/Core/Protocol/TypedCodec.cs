using System.Buffers;

namespace Nursery.Protocol;

/// <summary>
/// A codec's two methods for one type, bound once. A call through <see cref="ICodec"/>'s generic methods is a generic
/// virtual call, which the runtime resolves through a lookup on every call; a worker encodes and decodes every item,
/// so it binds them here when it starts and calls the delegates.
/// </summary>
internal sealed class TypedCodec<T>
{
    private readonly Action<T, IBufferWriter<byte>> _serialize;
    private readonly Decoder _deserialize;

    public TypedCodec(ICodec codec)
    {
        Codec = codec;
        _serialize = codec.Serialize;
        _deserialize = codec.Deserialize<T>;
    }

    private delegate T Decoder(in ReadOnlySequence<byte> input);

    /// <summary>The codec the methods belong to.</summary>
    public ICodec Codec { get; }

    public void Serialize(T value, IBufferWriter<byte> output) => _serialize(value, output);

    public T Deserialize(in ReadOnlySequence<byte> input) => _deserialize(input);
}
