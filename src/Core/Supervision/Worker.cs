using System.Buffers;
using LanguageExt;
using Nursery.Supervision;

namespace Nursery;

/// <summary>
/// One supervised child process running a <see cref="Body{TIn,TOut}"/>. Every call to <see cref="InvokeAsync"/>
/// completes exactly once, with the result or a <see cref="ChildFailure"/>, whatever the child does; after
/// <see cref="DisposeAsync"/> the child has been reaped. Thread-safe: concurrent calls are batched into frames.
/// </summary>
public sealed class Worker<TIn, TOut> : IAsyncDisposable
{
    private readonly WorkerCore _core;
    private readonly ICodec _codec;

    internal Worker(WorkerCore core, ICodec codec)
    {
        _core = core;
        _codec = codec;
    }

    /// <summary>The child's process id.</summary>
    public int ProcessId => _core.ProcessId;

    /// <summary>Whether the child is ready and has not ended.</summary>
    public bool IsAlive => _core.IsAlive;

    /// <summary>How many items the child has answered (results and errors).</summary>
    public long ItemsCompleted => _core.ItemsCompleted;

    /// <summary>
    /// Completes when the child has ended and been reaped: None if it was disposed, otherwise the failure that ended it
    /// (its item's key is empty when no item was running). Never faults.
    /// </summary>
    public Task<Option<ChildFailure>> Completion => _core.Completion;

    /// <summary>
    /// Starts a child, loads the body and runs its initializer (see <see cref="Worker.StartAsync{TIn,TOut}(Body{TIn,TOut}, WorkerOptions?, CancellationToken)"/>). Returns the ready worker, or the reason it could not
    /// start (<see cref="ChildFailure.StartFailed"/>, or <see cref="ChildFailure.Cancelled"/> if <paramref name="cancellationToken"/>
    /// fired); on failure no process is left. Bounded by <see cref="WorkerOptions.StartTimeout"/>.
    /// </summary>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    internal static async Task<Either<ChildFailure, Worker<TIn, TOut>>> StartAsync(Body<TIn, TOut> body, WorkerOptions? options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(body);
        options = (options ?? new WorkerOptions()).Validate();
        var init = new Protocol.InitMessage(body.Method, body.Initializer, body.StateJson, (int)options.HeartbeatInterval.TotalMilliseconds, body.Codec.GetType().AssemblyQualifiedName!);
        var core = new WorkerCore(options, new FrameWire(options, init));
        var started = await core.StartAsync(cancellationToken).ConfigureAwait(false);
        return started.Map(_ => new Worker<TIn, TOut>(core, body.Codec));
    }

    internal static async Task<Either<ChildFailure, Worker<TIn, TOut>>> StartAsync(PersistentCommand<TIn, TOut> command, WorkerOptions? options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        options = (options ?? new WorkerOptions()).Validate();
        var environment = new Dictionary<string, string>(options.Environment);
        foreach (var (name, value) in command.Environment)
            environment[name] = value;
        options = options with
        {
            Environment = environment,
            HeartbeatTimeout = command.SendsHeartbeats ? options.HeartbeatTimeout : Timeout.InfiniteTimeSpan,
        };
        var wire = new Commands.NdjsonWire(command.Executable, command.Arguments, command.WorkingDirectory, command.ExpectReady);
        var core = new WorkerCore(options, wire);
        var started = await core.StartAsync(cancellationToken).ConfigureAwait(false);
        return started.Map(_ => new Worker<TIn, TOut>(core, new JsonCodec()));
    }

    /// <summary>
    /// Runs one item in the child. Completes with the result, or with the failure: the body threw (Faulted), the child
    /// crashed, was OOM-killed, timed out, wrote garbage, or ended while the item waited (Cancelled, ItemStarted = false).
    /// Cancelling <paramref name="cancellationToken"/> drops a queued item, or kills the child if it is already running the item.
    /// Never throws for anything the child does.
    /// </summary>
    /// <param name="input">The item.</param>
    /// <param name="key">The item's key for failures and logs (its index in the source, say).</param>
    /// <param name="attempt">The attempt number, for failures and logs.</param>
    /// <param name="cancellationToken">Cancels this item.</param>
    public Task<Either<ChildFailure, TOut>> InvokeAsync(TIn input, string key = "", int attempt = 1, CancellationToken cancellationToken = default)
    {
        var item = new Item(_core.NextId(), key ?? "", attempt, input, _codec, _core);
        if (cancellationToken.IsCancellationRequested)
        {
            _core.Cancel(item);
            return item.Task;
        }
        if (!_core.TryEnqueue(item))
        {
            item.TryFail(_core.EndedFailure(item));
            return item.Task;
        }
        if (cancellationToken.CanBeCanceled)
            item.Registration = cancellationToken.Register(static state => ((Item)state!).Cancel(), item);
        return item.Task;
    }

    /// <summary>Closes the child's stdin, gives it <see cref="WorkerOptions.KillGrace"/> to leave, kills it if it has not, and waits until it is reaped. Items still in flight end Cancelled.</summary>
    public ValueTask DisposeAsync() => _core.DisposeAsync();

    private sealed class Item(long id, string key, int attempt, TIn input, ICodec codec, WorkerCore core) : PendingItem(id, key, attempt)
    {
        private readonly TaskCompletionSource<Either<ChildFailure, TOut>> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private TIn _input = input;

        public Task<Either<ChildFailure, TOut>> Task => _completion.Task;

        public override bool IsCompleted => _completion.Task.IsCompleted;

        public void Cancel() => core.Cancel(this);

        public override void WriteInput(IBufferWriter<byte> output)
        {
            codec.Serialize(_input, output);
            _input = default!;
        }

        public override Option<ChildFailure> TryCompleteWithResult(in ReadOnlySequence<byte> payload)
        {
            TOut result;
            try
            {
                result = codec.Deserialize<TOut>(payload);
            }
            catch (Exception exception)
            {
                var bytes = payload.Slice(0, Math.Min(payload.Length, 64)).ToArray();
                return new ChildFailure.ProtocolViolation($"the child's result for this item cannot be decoded as {typeof(TOut)}: {exception.Message}", bytes);
            }
            if (result is null)
            {
                var error = new RemoteError("Nursery.NullResult", $"the body returned null; a result must be a value (return an Option<{typeof(TOut).Name}> or an empty value instead)", "", []);
                return new ChildFailure.Faulted(error);
            }
            Registration.Unregister();
            _completion.TrySetResult(Prelude.Right<ChildFailure, TOut>(result));
            return Option<ChildFailure>.None;
        }

        public override bool TryFail(ChildFailure failure)
        {
            Registration.Unregister();
            return _completion.TrySetResult(Prelude.Left<ChildFailure, TOut>(failure));
        }
    }
}
