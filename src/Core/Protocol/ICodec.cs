using System.Buffers;

namespace Nursery;

/// <summary>
/// Encodes items and results on the wire. The parent and the child use the same codec type: the child creates it
/// with its public parameterless constructor, so an implementation must have one and keep no state of the caller's.
/// </summary>
public interface ICodec
{
    /// <summary>Writes <paramref name="value"/> to <paramref name="output"/>.</summary>
    void Serialize<T>(T value, IBufferWriter<byte> output);

    /// <summary>Reads a value written by <see cref="Serialize{T}"/>; throws on malformed input.</summary>
    T Deserialize<T>(in ReadOnlySequence<byte> input);

    /// <summary>Throws <see cref="NotSupportedException"/> with a reason when <paramref name="type"/> cannot go on the wire; called when a body is built.</summary>
    void EnsureSupported(Type type);
}
