using System.Buffers;

namespace Nursery.ChildHost;

/// <summary>Decodes an item, runs the body, encodes the result. Exceptions propagate to become error replies.</summary>
internal interface IBodyInvoker
{
    ValueTask InvokeAsync(ReadOnlySequence<byte> input, IBufferWriter<byte> output);
}

/// <summary>
/// The codec's two methods for one pair of types, bound once: a delegate made from a generic interface method finds
/// its implementation when it is made, so an item pays a plain delegate call instead of a generic virtual dispatch.
/// </summary>
internal sealed class BoundCodec<TIn, TOut>(ICodec codec)
{
    public delegate TIn DecodeFunction(in ReadOnlySequence<byte> input);

    public DecodeFunction Decode { get; } = codec.Deserialize<TIn>;

    public Action<TOut, IBufferWriter<byte>> Encode { get; } = codec.Serialize<TOut>;
}

internal sealed class SyncInvoker<TIn, TOut>(Func<TIn, TOut> body, ICodec codec) : IBodyInvoker
{
    private readonly BoundCodec<TIn, TOut> _codec = new(codec);

    public ValueTask InvokeAsync(ReadOnlySequence<byte> input, IBufferWriter<byte> output)
    {
        _codec.Encode(body(_codec.Decode(input)), output);
        return ValueTask.CompletedTask;
    }
}

internal sealed class TaskInvoker<TIn, TOut>(Func<TIn, Task<TOut>> body, ICodec codec) : IBodyInvoker
{
    private readonly BoundCodec<TIn, TOut> _codec = new(codec);

    public async ValueTask InvokeAsync(ReadOnlySequence<byte> input, IBufferWriter<byte> output)
    {
        var result = await body(_codec.Decode(input)).ConfigureAwait(false);
        _codec.Encode(result, output);
    }
}

internal sealed class ValueTaskInvoker<TIn, TOut>(Func<TIn, ValueTask<TOut>> body, ICodec codec) : IBodyInvoker
{
    private readonly BoundCodec<TIn, TOut> _codec = new(codec);

    public async ValueTask InvokeAsync(ReadOnlySequence<byte> input, IBufferWriter<byte> output)
    {
        var result = await body(_codec.Decode(input)).ConfigureAwait(false);
        _codec.Encode(result, output);
    }
}
