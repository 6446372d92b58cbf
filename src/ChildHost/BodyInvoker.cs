using System.Buffers;
using Nursery.Protocol;

namespace Nursery.ChildHost;

/// <summary>Decodes an item, runs the body, encodes the result. Exceptions propagate to become error replies.</summary>
internal interface IBodyInvoker
{
    ValueTask InvokeAsync(ReadOnlySequence<byte> input, IBufferWriter<byte> output, CancellationToken token);

    /// <summary>Whether the body takes a cancellation token (the host then makes one per item, which a Stop frame cancels).</summary>
    bool TakesToken { get; }

    /// <summary>
    /// Compiles what the first item will run in the codec, without running the body: called while the child waits for
    /// its first request after Ready, time it would spend idle. The body and the invoker are compiled ahead only by a
    /// child still idle a while later (<see cref="BodyLoader.PrepareBody"/>): for a first item that follows Ready at
    /// once, compiling them ahead costs more than it saves.
    /// </summary>
    void Prepare();
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

    /// <summary>
    /// Runs the codec once over default values, so that the first item finds its methods compiled. Only the JSON codec
    /// with the types it writes itself: that is pure and cheap; another codec may do anything, and the serializer's
    /// metadata for other types is built by the host's warm-up thread.
    /// </summary>
    public void Prepare()
    {
        if (codec is not JsonCodec || !JsonPrimitives.Contains(typeof(TIn)) || !JsonPrimitives.Contains(typeof(TOut)))
            return;
        using var scratch = new FrameBuffer(64);
        try
        {
            codec.Serialize(default(TIn), scratch);
            _ = Decode(new ReadOnlySequence<byte>(scratch.WrittenMemory));
            scratch.Clear();
            Encode(default!, scratch);
        }
        catch (Exception exception) when (exception is System.Text.Json.JsonException or FormatException or InvalidOperationException or ArgumentException)
        {
            // A preparation only: the first item meets whatever this was, and reports it.
        }
    }
}

internal sealed class SyncInvoker<TIn, TOut>(Func<TIn, TOut> body, ICodec codec) : IBodyInvoker
{
    private readonly BoundCodec<TIn, TOut> _codec = new(codec);

    public void Prepare() => _codec.Prepare();

    public bool TakesToken => false;

    public ValueTask InvokeAsync(ReadOnlySequence<byte> input, IBufferWriter<byte> output, CancellationToken token)
    {
        _codec.Encode(body(_codec.Decode(input)), output);
        return ValueTask.CompletedTask;
    }
}

internal sealed class TaskInvoker<TIn, TOut>(Func<TIn, Task<TOut>> body, ICodec codec) : IBodyInvoker
{
    private readonly BoundCodec<TIn, TOut> _codec = new(codec);

    public void Prepare() => _codec.Prepare();

    public bool TakesToken => false;

    public async ValueTask InvokeAsync(ReadOnlySequence<byte> input, IBufferWriter<byte> output, CancellationToken token)
    {
        var result = await body(_codec.Decode(input)).ConfigureAwait(false);
        _codec.Encode(result, output);
    }
}

internal sealed class ValueTaskInvoker<TIn, TOut>(Func<TIn, ValueTask<TOut>> body, ICodec codec) : IBodyInvoker
{
    private readonly BoundCodec<TIn, TOut> _codec = new(codec);

    public void Prepare() => _codec.Prepare();

    public bool TakesToken => false;

    public async ValueTask InvokeAsync(ReadOnlySequence<byte> input, IBufferWriter<byte> output, CancellationToken token)
    {
        var result = await body(_codec.Decode(input)).ConfigureAwait(false);
        _codec.Encode(result, output);
    }
}

internal sealed class CancellableSyncInvoker<TIn, TOut>(Func<TIn, CancellationToken, TOut> body, ICodec codec) : IBodyInvoker
{
    private readonly BoundCodec<TIn, TOut> _codec = new(codec);

    public void Prepare() => _codec.Prepare();

    public bool TakesToken => true;

    public ValueTask InvokeAsync(ReadOnlySequence<byte> input, IBufferWriter<byte> output, CancellationToken token)
    {
        _codec.Encode(body(_codec.Decode(input), token), output);
        return ValueTask.CompletedTask;
    }
}

internal sealed class CancellableTaskInvoker<TIn, TOut>(Func<TIn, CancellationToken, Task<TOut>> body, ICodec codec) : IBodyInvoker
{
    private readonly BoundCodec<TIn, TOut> _codec = new(codec);

    public void Prepare() => _codec.Prepare();

    public bool TakesToken => true;

    public async ValueTask InvokeAsync(ReadOnlySequence<byte> input, IBufferWriter<byte> output, CancellationToken token)
    {
        var result = await body(_codec.Decode(input), token).ConfigureAwait(false);
        _codec.Encode(result, output);
    }
}

internal sealed class CancellableValueTaskInvoker<TIn, TOut>(Func<TIn, CancellationToken, ValueTask<TOut>> body, ICodec codec) : IBodyInvoker
{
    private readonly BoundCodec<TIn, TOut> _codec = new(codec);

    public void Prepare() => _codec.Prepare();

    public bool TakesToken => true;

    public async ValueTask InvokeAsync(ReadOnlySequence<byte> input, IBufferWriter<byte> output, CancellationToken token)
    {
        var result = await body(_codec.Decode(input), token).ConfigureAwait(false);
        _codec.Encode(result, output);
    }
}
