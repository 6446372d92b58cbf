using System.Buffers;
using LanguageExt;
using Nursery.Protocol;
using Nursery.Supervision;

namespace Nursery;

/// <summary>
/// One supervised child process running a <see cref="Body{TIn,TOut}"/>. Every call to <see cref="InvokeAsync"/>
/// completes exactly once, with the result or a <see cref="ChildFailure"/>, whatever the child does; after
/// <see cref="DisposeAsync"/> the child has been reaped. Thread-safe: concurrent calls are batched into frames.
/// </summary>
public sealed class Worker<TIn, TOut> : IAsyncDisposable, ILeasable
{
    private readonly WorkerCore _core;
    private readonly Codecs _codecs;

    internal Worker(WorkerCore core, ICodec codec)
    {
        _core = core;
        _codecs = new Codecs(new TypedCodec<TIn>(codec), new TypedCodec<TOut>(codec));
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
        var core = new WorkerCore(options, new FrameWire(options, init, body.TakesToken));
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
        var wire = new Commands.NdjsonWire(command.Executable, command.Arguments, command.WorkingDirectory, command.ExpectReady, options.MaxResultBytes);
        var core = new WorkerCore(options, wire);
        var started = await core.StartAsync(cancellationToken).ConfigureAwait(false);
        return started.Map(_ => new Worker<TIn, TOut>(core, new JsonCodec()));
    }

    /// <summary>
    /// Runs one item in the child. Completes with the result, or with the failure: the body threw (Faulted), the child
    /// crashed, was OOM-killed, timed out, wrote garbage, or ended while the item waited (Cancelled, ItemStarted = false).
    /// Cancelling <paramref name="cancellationToken"/> drops a queued item; an item already running is stopped: a body
    /// that takes a token has it cancelled in the child and <see cref="WorkerOptions.KillGrace"/> to return (the child
    /// lives on), else the child is killed. The call completes once the body has stopped or the child is gone.
    /// Never throws for anything the child does.
    /// </summary>
    /// <param name="input">The item.</param>
    /// <param name="key">The item's key for failures and logs (its index in the source, say).</param>
    /// <param name="attempt">The attempt number, for failures and logs.</param>
    /// <param name="cancellationToken">Cancels this item.</param>
    public Task<Either<ChildFailure, TOut>> InvokeAsync(TIn input, string key = "", int attempt = 1, CancellationToken cancellationToken = default)
    {
        var item = new Item(_core.NextId(), key ?? "", attempt, input, _codecs, _core);
        if (cancellationToken.IsCancellationRequested)
        {
            _core.Cancel(item);
            return item.Task;
        }
        // Registered before the item can reach the child, so its completion always finds the registration to undo
        // (a reply arriving first would leave it on the caller's token until that token is disposed).
        if (cancellationToken.CanBeCanceled)
            item.Registration = cancellationToken.Register(static state => ((Item)state!).Cancel(), item);
        if (!_core.TryEnqueue(item))
            item.TryFail(_core.EndedFailure(item));
        return item.Task;
    }

    /// <summary>
    /// Runs a batch of items in this child, in order, with one completion for the whole batch instead of one per
    /// item. Each item still ends on its own: a crash is blamed on the item that was running, items behind it come
    /// back Cancelled (not started), cancelling drops the queued ones and kills the child if one is running.
    /// </summary>
    internal async Task<Either<ChildFailure, TOut>[]> InvokeBatchAsync(IReadOnlyList<TIn> inputs, Func<int, string> keyOf, int attempt, CancellationToken cancellationToken)
    {
        var results = new (Either<ChildFailure, TOut> Result, int ProcessId)[inputs.Count];
        await InvokeBatchAsync(inputs, keyOf, attempt, results, null, cancellationToken).ConfigureAwait(false);
        return Array.ConvertAll(results, static ended => ended.Result);
    }

    /// <summary>
    /// As <see cref="InvokeBatchAsync(IReadOnlyList{TIn}, Func{int, string}, int, CancellationToken)"/>, each item's
    /// result and this child's pid written into <paramref name="results"/> at its position (<paramref name="positions"/>[i],
    /// or i when null) as it ends, rather than into an array of the batch's own.
    /// </summary>
    internal async Task InvokeBatchAsync(IReadOnlyList<TIn> inputs, Func<int, string> keyOf, int attempt, (Either<ChildFailure, TOut> Result, int ProcessId)[] results, int[]? positions, CancellationToken cancellationToken)
    {
        if (inputs.Count == 0)
            return;
        var batch = new Batch(inputs, keyOf, attempt, _codecs, _core, results, positions);
        batch.Start(cancellationToken);
        try
        {
            await batch.Task.ConfigureAwait(false);
        }
        finally
        {
            await batch.Registration.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Closes the child's stdin, gives it <see cref="WorkerOptions.KillGrace"/> to leave, kills it if it has not, and waits until it is reaped. Items still in flight end Cancelled.</summary>
    public ValueTask DisposeAsync() => _core.DisposeAsync();

    private sealed class Item(long id, string key, int attempt, TIn input, Codecs codecs, WorkerCore core) : PendingItem(id, attempt)
    {
        public override string Key { get; } = key;

        public CancellationTokenRegistration Registration { get; set; }

        public override void Unregister() => Registration.Unregister();

        private readonly TaskCompletionSource<Either<ChildFailure, TOut>> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private TIn _input = input;
        private int _ended;

        public Task<Either<ChildFailure, TOut>> Task => _completion.Task;

        public override bool IsCompleted => Volatile.Read(ref _ended) != 0;

        public void Cancel() => core.Cancel(this);

        public override void WriteInput(IBufferWriter<byte> output)
        {
            codecs.Input.Serialize(_input, output);
            _input = default!;
        }

        public override Option<ChildFailure> TryCompleteWithResult(in ReadOnlySequence<byte> payload)
        {
            var decoded = Decode(codecs.Output, payload);
            if (decoded.IsLeft)
                return decoded.Match(_ => Option<ChildFailure>.None, failure => failure);
            Registration.Unregister();
            // The span ends before the caller can see the result, so it never outlives what waits for it.
            if (Interlocked.Exchange(ref _ended, 1) == 0)
            {
                Ended(null);
                _completion.TrySetResult(decoded);
            }
            return Option<ChildFailure>.None;
        }

        public override bool TryFail(ChildFailure failure)
        {
            Registration.Unregister();
            if (Interlocked.Exchange(ref _ended, 1) != 0)
                return false;
            Ended(failure);
            return _completion.TrySetResult(Prelude.Left<ChildFailure, TOut>(failure));
        }
    }

    /// <summary>The shared state of a batch: the inputs, where each item's result goes, and one completion when the last item ends.</summary>
    private sealed class Batch(IReadOnlyList<TIn> inputs, Func<int, string> keyOf, int attempt, Codecs codecs, WorkerCore core, (Either<ChildFailure, TOut> Result, int ProcessId)[] results, int[]? positions)
    {
        private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private BatchItem[] _items = [];
        private int _remaining = inputs.Count;

        public Task Task => _completion.Task;

        public CancellationTokenRegistration Registration { get; private set; }

        public IReadOnlyList<TIn> Inputs => inputs;

        public Codecs Codecs => codecs;

        public string KeyOf(int index) => keyOf(index);

        public void Start(CancellationToken cancellationToken)
        {
            var firstId = core.NextIds(inputs.Count);
            _items = new BatchItem[inputs.Count];
            for (var i = 0; i < _items.Length; i++)
                _items[i] = new BatchItem(firstId + i, attempt, this, i);
            if (cancellationToken.IsCancellationRequested)
            {
                CancelAll();
                return;
            }
            // Registered before the items can reach the child (see InvokeAsync); an item cancelled meanwhile is
            // skipped by the writer.
            if (cancellationToken.CanBeCanceled)
                Registration = cancellationToken.Register(static state => ((Batch)state!).CancelAll(), this);
            if (!core.TryEnqueue(_items))
            {
                foreach (var item in _items)
                    item.TryFail(core.EndedFailure(item));
            }
        }

        public void End(int index, Either<ChildFailure, TOut> result)
        {
            results[positions?[index] ?? index] = (result, core.ProcessId);
            if (Interlocked.Decrement(ref _remaining) == 0)
                _completion.TrySetResult();
        }

        private void CancelAll()
        {
            foreach (var item in _items)
            {
                if (!item.IsCompleted)
                    core.Cancel(item);
            }
        }
    }

    private sealed class BatchItem(long id, int attempt, Batch batch, int index) : PendingItem(id, attempt)
    {
        private int _ended;

        public override string Key => batch.KeyOf(index);

        public override bool IsCompleted => Volatile.Read(ref _ended) != 0;

        public override void WriteInput(IBufferWriter<byte> output) => batch.Codecs.Input.Serialize(batch.Inputs[index], output);

        public override Option<ChildFailure> TryCompleteWithResult(in ReadOnlySequence<byte> payload)
        {
            var decoded = Decode(batch.Codecs.Output, payload);
            if (decoded.IsLeft)
                return decoded.Match(_ => Option<ChildFailure>.None, failure => failure);
            if (Interlocked.Exchange(ref _ended, 1) == 0)
            {
                Ended(null);
                batch.End(index, decoded);
            }
            return Option<ChildFailure>.None;
        }

        public override bool TryFail(ChildFailure failure)
        {
            if (Interlocked.Exchange(ref _ended, 1) != 0)
                return false;
            Ended(failure);
            batch.End(index, Prelude.Left<ChildFailure, TOut>(failure));
            return true;
        }
    }

    /// <summary>The worker's codec, bound to its input and result types.</summary>
    private sealed record Codecs(TypedCodec<TIn> Input, TypedCodec<TOut> Output);

    /// <summary>Decodes a result; a Left when the bytes are not a <typeparamref name="TOut"/> or the body returned null.</summary>
    private static Either<ChildFailure, TOut> Decode(TypedCodec<TOut> codec, in ReadOnlySequence<byte> payload)
    {
        TOut result;
        try
        {
            result = codec.Deserialize(payload);
        }
        catch (Exception exception)
        {
            var bytes = payload.Slice(0, Math.Min(payload.Length, 64)).ToArray();
            return Prelude.Left<ChildFailure, TOut>(new ChildFailure.ProtocolViolation($"the child's result for this item cannot be decoded as {typeof(TOut)}: {exception.Message}", bytes));
        }
        if (result is null)
        {
            var error = new RemoteError("Nursery.NullResult", $"the body returned null; a result must be a value (return an Option<{typeof(TOut).Name}> or an empty value instead)", "", []);
            return Prelude.Left<ChildFailure, TOut>(new ChildFailure.Faulted(error));
        }
        return Prelude.Right<ChildFailure, TOut>(result);
    }
}
