using System.Threading.Channels;
using System.Threading.Tasks.Dataflow;
using Nursery.Supervision;
using LanguageExt;

namespace Nursery;

/// <summary>
/// A Dataflow block whose body runs in a pool of supervised child processes. It takes <see cref="Item{T}"/>s and
/// gives <see cref="Item{T}"/>s: a result, or the failure that ended the item after the stage's policy (a Left that
/// arrives is passed on untouched). It never faults for anything a child does. Link it to other blocks of the same
/// <see cref="NurseryScope"/> (completion then flows between them by itself) or to your own blocks; not to both.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The pool is disposed by the scope (StopAsync) when the run ends.")]
public sealed class Stage<TIn, TOut> : IPropagatorBlock<Item<TIn>, Item<TOut>>, IReceivableSourceBlock<Item<TOut>>, INurseryBlock, IInletBlock<TIn>
{
    private readonly BufferBlock<Item<TIn>> _input;
    private readonly Inlet<TIn> _inlet;
    private readonly List<ScopeLink> _scopeLinks = [];
    private Inlet<TOut>? _next;
    private readonly BufferBlock<Item<TOut>> _output;
    private readonly IItemRunner<TIn, TOut> _pool;
    private readonly Policy _policy;
    private readonly long _memoryLimit;
    private readonly Launcher _launcher;
    private readonly List<INurseryBlock> _upstreams = [];
    private readonly BatchSizer _sizer;
    private readonly bool _timesBatches;
    private readonly SemaphoreSlim _window;
    private readonly Channel<Emission> _emissions = Channel.CreateUnbounded<Emission>(new UnboundedChannelOptions { SingleReader = true });
    private readonly TaskCompletionSource _detachedDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly int _maxBatches;
    private readonly int _maxBatchItems;
    private readonly bool _ordered;
    private readonly bool _adaptsCapacity;
    private int _detached;
    private int _pumpEnded;
    private bool _linkedToScope;
    private bool _linkedElsewhere;

    internal Stage(NurseryScope scope, Func<PoolOptions, IItemRunner<TIn, TOut>> runner, StageOptions options, string name)
    {
        Scope = scope;
        Name = name;
        _policy = options.Policy.IfNone(scope.Options.DefaultPolicy).Validate();
        _memoryLimit = options.MemoryLimit;
        _launcher = options.Worker.Launcher;
        _pool = runner(options.ToPoolOptions(name, scope.Options));
        // A WorkerPool times its batches itself (from a ready child on); another runner is timed here.
        (_sizer, _timesBatches) = _pool is WorkerPool<TIn, TOut> workerPool ? (workerPool.Sizer, false) : (new BatchSizer(), true);
        _ordered = options.Ordered;
        // Items go to the children in batches, at most two per child at once (one running, one queued behind it), each
        // at most half of what a child may hold; the batch sizer keeps batches of slow items small.
        var batchesPerWorker = options.ItemsPerWorker >= 2 ? 2 : 1;
        _maxBatches = options.Workers * batchesPerWorker;
        _maxBatchItems = Math.Max(1, options.ItemsPerWorker / batchesPerWorker);
        _window = new SemaphoreSlim(_maxBatches, _maxBatches);
        var inFlight = _maxBatches * _maxBatchItems;
        // As many waiting as may be in flight: enough to refill every batch as it completes (twice that measured no faster).
        var capacity = options.BoundedCapacity > 0 ? options.BoundedCapacity : inFlight;
        _input = new BufferBlock<Item<TIn>>(new DataflowBlockOptions { BoundedCapacity = capacity });
        _inlet = new Inlet<TIn>(capacity);
        _adaptsCapacity = options.BoundedCapacity == 0;
        FollowBatchSize(1); // until the batch sizer has seen a batch
        _output = new BufferBlock<Item<TOut>>(new DataflowBlockOptions { BoundedCapacity = inFlight });
        _ = _inlet.ForwardFromAsync(_input);
        _ = PumpAsync();
        _ = EmitAsync();
    }

    /// <summary>The fewest items the automatic input capacity keeps waiting.</summary>
    private const int MinimumAdaptedCapacity = 16;

    /// <summary>The stage's name in failures, records and logs.</summary>
    public string Name { get; }

    /// <summary>What runs this stage's items in child processes (a pool of workers, or a process per item).</summary>
    public IItemRunner<TIn, TOut> Runner => _pool;

    /// <summary>Every process id this stage has started.</summary>
    public IReadOnlyCollection<int> ProcessIds => _pool.ProcessIds;

    /// <summary>Completes when the stage has processed every item it accepted. Never faults for a child's failure.</summary>
    public Task Completion => _output.Completion;

    /// <summary>Output items waiting to be taken.</summary>
    public int OutputCount => _output.Count;

    Inlet<TIn> IInletBlock<TIn>.Inlet => _inlet;

    NurseryScope INurseryBlock.Scope => Scope;

    Policy INurseryBlock.Policy => _policy;

    IReadOnlyList<INurseryBlock> INurseryBlock.Upstreams => _upstreams;

    internal NurseryScope Scope { get; }

    /// <summary>Links the output to <paramref name="target"/> (a stage or sink of this scope, or your own block) with default options.</summary>
    /// <exception cref="ArgumentException">As for the overload with options.</exception>
    public IDisposable LinkTo(ITargetBlock<Item<TOut>> target) => LinkTo(target, new DataflowLinkOptions());

    /// <summary>Links the output to <paramref name="target"/>. Links between blocks of one scope always carry completion.</summary>
    /// <exception cref="ArgumentException">The target belongs to another scope, or the output would go both to scope blocks and to your own blocks.</exception>
    public IDisposable LinkTo(ITargetBlock<Item<TOut>> target, DataflowLinkOptions linkOptions)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(linkOptions);
        Scope.EnsureNotRunning();
        if (target is INurseryBlock scoped)
        {
            if (scoped.Scope != Scope)
                throw new ArgumentException($"Stage '{Name}' and '{scoped.Name}' belong to different NurseryScopes; build every block of a pipeline from one scope.", nameof(target));
            if (_linkedElsewhere)
                throw new ArgumentException(MixedLinks, nameof(target));
            _linkedToScope = true;
            scoped.AddUpstream(this);
            // Made when the run starts: a single scope block is handed whole batches, others are linked then.
            var link = new ScopeLink(this, target, linkOptions);
            lock (_scopeLinks)
                _scopeLinks.Add(link);
            return link;
        }
        if (_linkedToScope)
            throw new ArgumentException(MixedLinks, nameof(target));
        _linkedElsewhere = true;
        Scope.Watch(target, $"a block linked from stage '{Name}'");
        return _output.LinkTo(target, linkOptions);
    }

    private string MixedLinks => $"Stage '{Name}' sends either to blocks of its NurseryScope or to your own blocks, not both, so that every item is counted once; put a scope block (or your block) in front of the others.";

    /// <inheritdoc />
    public void Complete()
    {
        _input.Complete();
        _inlet.Close();
    }

    /// <summary>A faulting upstream block aborts the run (it does not fault this stage), then the stage completes.</summary>
    public void Fault(Exception exception)
    {
        Scope.AbortForBlock($"a block sending to stage '{Name}' faulted", exception);
        Complete();
    }

    /// <inheritdoc />
    public DataflowMessageStatus OfferMessage(DataflowMessageHeader messageHeader, Item<TIn> messageValue, ISourceBlock<Item<TIn>>? source, bool consumeToAccept) =>
        ((ITargetBlock<Item<TIn>>)_input).OfferMessage(messageHeader, messageValue, source, consumeToAccept);

    /// <inheritdoc />
    public Item<TOut> ConsumeMessage(DataflowMessageHeader messageHeader, ITargetBlock<Item<TOut>> target, out bool messageConsumed) =>
        ((ISourceBlock<Item<TOut>>)_output).ConsumeMessage(messageHeader, target, out messageConsumed);

    /// <inheritdoc />
    public bool ReserveMessage(DataflowMessageHeader messageHeader, ITargetBlock<Item<TOut>> target) => ((ISourceBlock<Item<TOut>>)_output).ReserveMessage(messageHeader, target);

    /// <inheritdoc />
    public void ReleaseReservation(DataflowMessageHeader messageHeader, ITargetBlock<Item<TOut>> target) => ((ISourceBlock<Item<TOut>>)_output).ReleaseReservation(messageHeader, target);

    /// <inheritdoc />
    public bool TryReceive(Predicate<Item<TOut>>? filter, out Item<TOut> item) => _output.TryReceive(filter, out item);

    /// <inheritdoc />
    public bool TryReceiveAll([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IList<Item<TOut>>? items) => _output.TryReceiveAll(out items);

    void INurseryBlock.AddUpstream(INurseryBlock upstream) => _upstreams.Add(upstream);

    Task INurseryBlock.StartAsync(CancellationToken cancellationToken)
    {
        ScopeLink[] links;
        // Links may be made or disposed from other threads while the run starts.
        lock (_scopeLinks)
            links = [.. _scopeLinks];
        if (links is [{ Target: IInletBlock<TOut> next, Options.MaxMessages: DataflowBlockOptions.Unbounded }])
            Volatile.Write(ref _next, next.Inlet);
        else
        {
            foreach (var link in links)
                link.Attach();
        }
        if (links.Length == 0 && !_linkedElsewhere)
            _output.LinkTo(DataflowBlock.NullTarget<Item<TOut>>());
        Scope.Watch(_output, $"stage '{Name}'");
        return _pool.StartAsync(cancellationToken);
    }

    void INurseryBlock.DiscardOutput() => _output.LinkTo(DataflowBlock.NullTarget<Item<TOut>>());

    async ValueTask INurseryBlock.StopAsync()
    {
        await _pool.DisposeAsync().ConfigureAwait(false);
        // Last layer against orphans on a cluster: cancel whatever Slurm still runs under this run's job name.
        if (_launcher is SlurmLauncher slurm)
            await slurm.CancelRunAsync().ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override string ToString() => $"Stage {Name}";

    /// <summary>What the emitter sends on: a batch's outputs (holding a window slot until sent), or one retried item's.</summary>
    private readonly record struct Emission(Task<Item<TOut>[]> Outputs, bool HoldsSlot);

    /// <summary>
    /// Takes what is queued at the input (never waiting to fill a batch), cuts it into batches sized by the batch
    /// sizer and runs each in the pool, within the window of batches in flight. When the input has completed and every
    /// batch and retried item has been sent on, the emitter is told to finish.
    /// </summary>
    private async Task PumpAsync()
    {
        try
        {
            var taken = new List<Item<TIn>[]>();
            var held = new List<Item<TIn>>();
            var at = 0;
            while (true)
            {
                if (at >= held.Count)
                {
                    held.Clear();
                    taken.Clear();
                    at = 0;
                    if (!await _inlet.TakeAsync(taken).ConfigureAwait(false))
                        break;
                    foreach (var array in taken)
                        held.AddRange(array);
                }
                await _window.WaitAsync().ConfigureAwait(false);
                var size = _sizer.Next(_maxBatchItems);
                FollowBatchSize(size);
                var batch = new Item<TIn>[Math.Min(held.Count - at, size)];
                held.CopyTo(at, batch, 0, batch.Length);
                at += batch.Length;
                var outputs = RunBatchAsync(batch);
                if (_ordered || outputs.IsCompleted)
                    _emissions.Writer.TryWrite(new Emission(outputs, HoldsSlot: true));
                else
                    _ = outputs.ContinueWith(static (done, state) => ((Channel<Emission>)state!).Writer.TryWrite(new Emission(done, HoldsSlot: true)), _emissions, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }
            for (var slot = 0; slot < _maxBatches; slot++)
                await _window.WaitAsync().ConfigureAwait(false);
            Volatile.Write(ref _pumpEnded, 1);
            if (Volatile.Read(ref _detached) > 0)
                await _detachedDone.Task.ConfigureAwait(false);
            _emissions.Writer.TryComplete();
        }
        catch (Exception exception)
        {
            // A defect: fault the stage (the scope aborts the run) rather than strand items silently.
            _emissions.Writer.TryComplete(exception);
        }
    }

    /// <summary>Sends every output on, in the order the pump (ordered) or the batches (unordered) gave them, with backpressure.</summary>
    private async Task EmitAsync()
    {
        try
        {
            await foreach (var emission in _emissions.Reader.ReadAllAsync().ConfigureAwait(false))
            {
                var outputs = await emission.Outputs.ConfigureAwait(false);
                // To the one scope block linked: the whole array (false only when that block was completed by force
                // after an abort, whose books the scope settles). Otherwise through the output block, one by one.
                if (Volatile.Read(ref _next) is { } next)
                    await next.WriteAsync(outputs).ConfigureAwait(false);
                else
                {
                    foreach (var output in outputs)
                    {
                        if (!_output.Post(output))
                            await _output.SendAsync(output).ConfigureAwait(false);
                    }
                }
                if (emission.HoldsSlot)
                    _window.Release();
            }
            _output.Complete();
        }
        catch (Exception exception)
        {
            ((IDataflowBlock)_output).Fault(exception);
        }
    }

    /// <summary>
    /// Runs one batch: Lefts pass on untouched; values go to one child as a batch; each failure goes through the
    /// stage's policy. A retried item is waited for (ordered) or sent on by itself when done (unordered), so a
    /// backoff does not hold the batch's window slot. Never throws.
    /// </summary>
    private async Task<Item<TOut>[]> RunBatchAsync(Item<TIn>[] batch)
    {
        var outputs = new Item<TOut>[batch.Length];
        try
        {
            // Where the batch's values are (its Lefts pass on untouched); null when every item is a value, as usual.
            var positions = PassLeftsOn(batch, outputs);
            var count = positions?.Count ?? batch.Length;
            if (count == 0)
                return outputs;
            var inputs = new TIn[count];
            var keys = new string[count];
            for (var j = 0; j < count; j++)
            {
                ref readonly var item = ref batch[positions?[j] ?? j];
                inputs[j] = item.Value.Match(static value => value, static _ => throw new InvalidOperationException());
                keys[j] = item.Key;
            }
            if (Scope.IsAborted)
            {
                for (var j = 0; j < count; j++)
                {
                    var failure = Scope.AbortedFailure(Name, keys[j], 1, itemStarted: false);
                    Scope.Ledger.Failed(failure);
                    outputs[positions?[j] ?? j] = new Item<TOut>(keys[j], Prelude.Left<ChildFailure, TOut>(failure));
                }
                return outputs;
            }

            var start = DateTimeOffset.UtcNow;
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            var results = await _pool.InvokeBatchAsync(inputs, keys, Scope.Token).ConfigureAwait(false);
            if (_timesBatches)
                _sizer.Observe(inputs.Length, System.Diagnostics.Stopwatch.GetTimestamp() - started);
            var end = DateTimeOffset.UtcNow;

            // Successes first, counted before any failure goes through the policy (which may abort the run). Their
            // keys are listed only when a record is kept, a job log written or the items end here.
            var listKeys = Scope.Ledger.KeepsSuccesses || !_linkedToScope;
            var succeededKeys = listKeys ? new List<string>(results.Length) : null;
            var succeededPids = listKeys ? new List<int>(results.Length) : null;
            var succeeded = 0;
            for (var j = 0; j < results.Length; j++)
            {
                var (result, pid) = results[j];
                if (result.IsRight)
                {
                    succeeded++;
                    succeededKeys?.Add(keys[j]);
                    succeededPids?.Add(pid);
                    outputs[positions?[j] ?? j] = new Item<TOut>(keys[j], result);
                }
            }
            if (succeededKeys is null || succeededPids is null)
                Scope.Ledger.Succeeded(Name, succeeded);
            else
            {
                Scope.Ledger.Succeeded(Name, succeededKeys, succeededPids, start, end);
                if (!_linkedToScope)
                    Scope.Ledger.Ended(Name, succeededKeys);
            }

            List<Task>? waits = null;
            var detached = false;
            for (var j = 0; j < results.Length; j++)
            {
                var (result, pid) = results[j];
                if (result.IsRight)
                    continue;
                var position = positions?[j] ?? j;
                var key = keys[j];
                var finished = RunWithPolicyAsync(key, inputs[j], new Attempted(result, pid, start, end));
                if (finished.IsCompleted)
                    outputs[position] = Output(key, await finished.ConfigureAwait(false));
                else if (_ordered)
                    (waits ??= []).Add(WaitIntoAsync(outputs, position, key, finished));
                else
                {
                    // Sent on by itself when its retries end; the batch's output keeps a placeholder that is skipped.
                    outputs[position] = default;
                    detached = true;
                    Detach(key, finished);
                }
            }
            if (waits is not null)
                await Task.WhenAll(waits).ConfigureAwait(false);
            return detached ? Array.FindAll(outputs, output => output.Key is not null) : outputs;
        }
        catch (Exception exception)
        {
            // A defect here must not fault the block (that would strand items); it becomes the failure of every item
            // of the batch that has no output yet.
            var failure = new ChildFailure.Faulted(RemoteError.From(exception)) { Stage = Name };
            Scope.Abort(failure);
            for (var i = 0; i < batch.Length; i++)
            {
                if (outputs[i].Key is null)
                {
                    var own = failure with { Key = batch[i].Key };
                    Scope.Ledger.Failed(own);
                    outputs[i] = new Item<TOut>(batch[i].Key, Prelude.Left<ChildFailure, TOut>(own));
                }
            }
            return outputs;
        }
    }

    /// <summary>
    /// The automatic input capacity follows the batch size: two rounds of batches wait at most (4 per child), so
    /// trivial items keep Workers × ItemsPerWorker waiting while items that go one at a time keep a few, instead of a
    /// source of large items being read thousands of items ahead. A capacity the user set stays.
    /// </summary>
    private void FollowBatchSize(int size)
    {
        if (_adaptsCapacity)
            _inlet.Resize(Math.Max(_maxBatches * size * 2, MinimumAdaptedCapacity));
    }

    /// <summary>
    /// Puts the batch's Lefts into <paramref name="outputs"/> as they are and gives the positions of its values; null
    /// (nothing allocated) when the batch has no Left.
    /// </summary>
    private static List<int>? PassLeftsOn(Item<TIn>[] batch, Item<TOut>[] outputs)
    {
        List<int>? positions = null;
        for (var i = 0; i < batch.Length; i++)
        {
            if (batch[i].Value.IsLeft)
            {
                if (positions is null)
                {
                    positions = new List<int>(batch.Length);
                    for (var before = 0; before < i; before++)
                        positions.Add(before);
                }
                outputs[i] = new Item<TOut>(batch[i].Key, Prelude.Left<ChildFailure, TOut>(batch[i].Value.Match(static _ => throw new InvalidOperationException(), static failure => failure)));
            }
            else
                positions?.Add(i);
        }
        return positions;
    }

    private Item<TOut> Output(string key, Either<ChildFailure, TOut> result)
    {
        if (result.IsRight && !_linkedToScope)
            Scope.Ledger.Succeeded(Name, key);
        return new Item<TOut>(key, result);
    }

    private async Task WaitIntoAsync(Item<TOut>[] outputs, int position, string key, Task<Either<ChildFailure, TOut>> finished) =>
        outputs[position] = Output(key, await finished.ConfigureAwait(false));

    private void Detach(string key, Task<Either<ChildFailure, TOut>> finished)
    {
        Interlocked.Increment(ref _detached);
        _ = SendWhenDoneAsync(key, finished);
    }

    private async Task SendWhenDoneAsync(string key, Task<Either<ChildFailure, TOut>> finished)
    {
        Item<TOut> output;
        try
        {
            output = Output(key, await finished.ConfigureAwait(false));
        }
        catch (Exception exception)
        {
            output = FailedByDefect(key, exception);
        }
        _emissions.Writer.TryWrite(new Emission(Task.FromResult<Item<TOut>[]>([output]), HoldsSlot: false));
        if (Interlocked.Decrement(ref _detached) == 0 && Volatile.Read(ref _pumpEnded) == 1)
            _detachedDone.TrySetResult();
    }

    private Item<TOut> FailedByDefect(string key, Exception exception)
    {
        var failure = new ChildFailure.Faulted(RemoteError.From(exception)) { Stage = Name, Key = key };
        Scope.Ledger.Failed(failure);
        Scope.Abort(failure);
        return new Item<TOut>(key, Prelude.Left<ChildFailure, TOut>(failure));
    }

    /// <summary>A link to a block of the scope, made when the run starts (or not at all, when the block is handed batches).</summary>
    private sealed class ScopeLink(Stage<TIn, TOut> stage, ITargetBlock<Item<TOut>> target, DataflowLinkOptions options) : IDisposable
    {
        private readonly Lock _gate = new();
        private IDisposable? _link;
        private bool _disposed;

        public ITargetBlock<Item<TOut>> Target => target;

        public DataflowLinkOptions Options => options;

        public void Attach()
        {
            lock (_gate)
            {
                if (!_disposed)
                    _link = stage._output.LinkTo(target, new DataflowLinkOptions { Append = options.Append, MaxMessages = options.MaxMessages, PropagateCompletion = false });
            }
        }

        public void Dispose()
        {
            lock (_gate)
            {
                if (_disposed)
                    return;
                _disposed = true;
                _link?.Dispose();
                if (_link is null)
                {
                    lock (stage._scopeLinks)
                        stage._scopeLinks.Remove(this);
                }
            }
        }
    }

    /// <summary>An attempt already made (the first, as part of a batch).</summary>
    private readonly record struct Attempted(Either<ChildFailure, TOut> Result, int ProcessId, DateTimeOffset Start, DateTimeOffset End);

    /// <summary>Ends an item whose first attempt failed: the policy retries it (here, one at a time), skips it or fails fast.</summary>
    private async Task<Either<ChildFailure, TOut>> RunWithPolicyAsync(string key, TIn input, Attempted first)
    {
        var memoryLimit = _memoryLimit;
        for (var attempt = 1; ; attempt++)
        {
            Either<ChildFailure, TOut> result;
            int pid;
            DateTimeOffset start, end;
            if (attempt == 1)
                (result, pid, start, end) = first;
            else
            {
                if (Scope.IsAborted)
                    return Fail(Scope.AbortedFailure(Name, key, attempt, itemStarted: false));
                start = DateTimeOffset.UtcNow;
                (result, pid) = await _pool.InvokeWithProcessIdAsync(input, key, attempt, memoryLimit, Scope.Token).ConfigureAwait(false);
                end = DateTimeOffset.UtcNow;
            }
            if (result.IsRight)
            {
                Scope.Ledger.Attempt(Name, key, attempt, pid, start, end, "Succeeded", "");
                return result;
            }
            var failure = result.Match(_ => throw new InvalidOperationException(), f => f);
            if (failure is ChildFailure.Cancelled cancelled && Scope.IsAborted)
                failure = Scope.AbortedFailure(Name, key, attempt, cancelled.ItemStarted) with { ProcessId = failure.ProcessId, Elapsed = failure.Elapsed, StderrTail = failure.StderrTail };
            Scope.Ledger.Attempt(Name, key, attempt, failure.ProcessId, start, end, failure.Kind, failure.Summary);

            var final = _policy;
            if (_policy is RetryPolicy retry)
            {
                if (!Scope.IsAborted && retry.ShouldRetry(failure, attempt))
                {
                    if (failure is ChildFailure.OutOfMemory oom && retry.MemoryGrowth > 1.0)
                        memoryLimit = (long)(Math.Max(memoryLimit, oom.LimitBytes) * retry.MemoryGrowth);
                    if (await Scope.DelayAsync(retry.BackoffBefore(attempt + 1)).ConfigureAwait(false))
                        continue;
                }
                final = retry.Then;
            }
            if (failure is ChildFailure.StartFailed && _pool.Failure.IsSome)
            {
                Scope.Ledger.Failed(failure);
                Scope.AbortForFailedStage(failure);
                return Prelude.Left<ChildFailure, TOut>(failure);
            }
            return Fail(failure, final == Policy.FailFast);
        }

        Either<ChildFailure, TOut> Fail(ChildFailure failure, bool abort = false)
        {
            Scope.Ledger.Failed(failure);
            if (abort)
                Scope.Abort(failure);
            return Prelude.Left<ChildFailure, TOut>(failure);
        }
    }
}
