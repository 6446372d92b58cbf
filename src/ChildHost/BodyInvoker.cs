using System.Buffers;

namespace Nursery.ChildHost;

/// <summary>Decodes an item, runs the body, encodes the result. Exceptions propagate to become error replies.</summary>
internal interface IBodyInvoker
{
    ValueTask InvokeAsync(ReadOnlySequence<byte> input, IBufferWriter<byte> output);
}

internal sealed class SyncInvoker<TIn, TOut>(Func<TIn, TOut> body, ICodec codec) : IBodyInvoker
{
    public ValueTask InvokeAsync(ReadOnlySequence<byte> input, IBufferWriter<byte> output)
    {
        codec.Serialize(body(codec.Deserialize<TIn>(input)), output);
        return ValueTask.CompletedTask;
    }
}

internal sealed class TaskInvoker<TIn, TOut>(Func<TIn, Task<TOut>> body, ICodec codec) : IBodyInvoker
{
    public async ValueTask InvokeAsync(ReadOnlySequence<byte> input, IBufferWriter<byte> output)
    {
        var result = await body(codec.Deserialize<TIn>(input)).ConfigureAwait(false);
        codec.Serialize(result, output);
    }
}

internal sealed class ValueTaskInvoker<TIn, TOut>(Func<TIn, ValueTask<TOut>> body, ICodec codec) : IBodyInvoker
{
    public async ValueTask InvokeAsync(ReadOnlySequence<byte> input, IBufferWriter<byte> output)
    {
        var result = await body(codec.Deserialize<TIn>(input)).ConfigureAwait(false);
        codec.Serialize(result, output);
    }
}
