using System.Threading.Tasks.Dataflow;
using LanguageExt;

namespace Nursery;

/// <summary>
/// A Dataflow block whose body runs in a pool of supervised child processes. It takes <see cref="Item{T}"/>s and
/// gives <see cref="Item{T}"/>s: a result, or the failure that ended the item after the stage's policy (a Left that
/// arrives is passed on untouched). It never faults for anything a child does. Link it to other blocks of the same
/// <see cref="NurseryScope"/> (completion then flows between them by itself) or to your own blocks; not to both.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The pool is disposed by the scope (StopAsync) when the run ends.")]
public sealed class Stage<TIn, TOut> : IPropagatorBlock<Item<TIn>, Item<TOut>>, IReceivableSourceBlock<Item<TOut>>, INurseryBlock
{
    private readonly TransformBlock<Item<TIn>, Item<TOut>> _block;
    private readonly IItemRunner<TIn, TOut> _pool;
    private readonly Policy _policy;
    private readonly long _memoryLimit;
    private readonly Launcher _launcher;
    private readonly List<INurseryBlock> _upstreams = [];
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
        var inFlight = options.Workers * options.ItemsPerWorker;
        _block = new TransformBlock<Item<TIn>, Item<TOut>>(
            ProcessAsync,
            new ExecutionDataflowBlockOptions
            {
                MaxDegreeOfParallelism = inFlight,
                BoundedCapacity = options.BoundedCapacity > 0 ? options.BoundedCapacity : inFlight * 2,
                EnsureOrdered = options.Ordered,
            }
        );
    }

    /// <summary>The stage's name in failures, records and logs.</summary>
    public string Name { get; }

    /// <summary>What runs this stage's items in child processes (a pool of workers, or a process per item).</summary>
    public IItemRunner<TIn, TOut> Runner => _pool;

    /// <summary>Every process id this stage has started.</summary>
    public IReadOnlyCollection<int> ProcessIds => _pool.ProcessIds;

    /// <summary>Completes when the stage has processed every item it accepted. Never faults for a child's failure.</summary>
    public Task Completion => _block.Completion;

    /// <summary>Output items waiting to be taken.</summary>
    public int OutputCount => _block.OutputCount;

    NurseryScope INurseryBlock.Scope => Scope;

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
            return _block.LinkTo(target, new DataflowLinkOptions { Append = linkOptions.Append, MaxMessages = linkOptions.MaxMessages, PropagateCompletion = false });
        }
        if (_linkedToScope)
            throw new ArgumentException(MixedLinks, nameof(target));
        _linkedElsewhere = true;
        Scope.Watch(target, $"a block linked from stage '{Name}'");
        return _block.LinkTo(target, linkOptions);
    }

    private string MixedLinks => $"Stage '{Name}' sends either to blocks of its NurseryScope or to your own blocks, not both, so that every item is counted once; put a scope block (or your block) in front of the others.";

    /// <inheritdoc />
    public void Complete() => _block.Complete();

    /// <summary>A faulting upstream block aborts the run (it does not fault this stage), then the stage completes.</summary>
    public void Fault(Exception exception)
    {
        Scope.AbortForBlock($"a block sending to stage '{Name}' faulted", exception);
        _block.Complete();
    }

    /// <inheritdoc />
    public DataflowMessageStatus OfferMessage(DataflowMessageHeader messageHeader, Item<TIn> messageValue, ISourceBlock<Item<TIn>>? source, bool consumeToAccept) =>
        ((ITargetBlock<Item<TIn>>)_block).OfferMessage(messageHeader, messageValue, source, consumeToAccept);

    /// <inheritdoc />
    public Item<TOut> ConsumeMessage(DataflowMessageHeader messageHeader, ITargetBlock<Item<TOut>> target, out bool messageConsumed) =>
        ((ISourceBlock<Item<TOut>>)_block).ConsumeMessage(messageHeader, target, out messageConsumed);

    /// <inheritdoc />
    public bool ReserveMessage(DataflowMessageHeader messageHeader, ITargetBlock<Item<TOut>> target) => ((ISourceBlock<Item<TOut>>)_block).ReserveMessage(messageHeader, target);

    /// <inheritdoc />
    public void ReleaseReservation(DataflowMessageHeader messageHeader, ITargetBlock<Item<TOut>> target) => ((ISourceBlock<Item<TOut>>)_block).ReleaseReservation(messageHeader, target);

    /// <inheritdoc />
    public bool TryReceive(Predicate<Item<TOut>>? filter, out Item<TOut> item) => _block.TryReceive(filter, out item);

    /// <inheritdoc />
    public bool TryReceiveAll([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IList<Item<TOut>>? items) => _block.TryReceiveAll(out items);

    void INurseryBlock.AddUpstream(INurseryBlock upstream) => _upstreams.Add(upstream);

    Task INurseryBlock.StartAsync(CancellationToken cancellationToken)
    {
        if (!_linkedToScope && !_linkedElsewhere)
            _block.LinkTo(DataflowBlock.NullTarget<Item<TOut>>());
        Scope.Watch(_block, $"stage '{Name}'");
        return _pool.StartAsync(cancellationToken);
    }

    void INurseryBlock.DiscardOutput() => _block.LinkTo(DataflowBlock.NullTarget<Item<TOut>>());

    async ValueTask INurseryBlock.StopAsync()
    {
        await _pool.DisposeAsync().ConfigureAwait(false);
        // Last layer against orphans on a cluster: cancel whatever Slurm still runs under this run's job name.
        if (_launcher is SlurmLauncher slurm)
            await slurm.CancelRunAsync().ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override string ToString() => $"Stage {Name}";

    private async Task<Item<TOut>> ProcessAsync(Item<TIn> item)
    {
        if (item.Value.IsLeft)
            return new Item<TOut>(item.Key, Prelude.Left<ChildFailure, TOut>(item.Value.Match(_ => throw new InvalidOperationException(), failure => failure)));
        var input = item.Value.Match(value => value, _ => throw new InvalidOperationException());
        try
        {
            var result = await RunWithPolicyAsync(item.Key, input).ConfigureAwait(false);
            if (result.IsRight && !_linkedToScope)
                Scope.Ledger.Succeeded(Name, item.Key);
            return new Item<TOut>(item.Key, result);
        }
        catch (Exception exception)
        {
            // A defect here must not fault the block (that would strand items); it becomes the item's failure.
            var failure = new ChildFailure.Faulted(RemoteError.From(exception)) { Stage = Name, Key = item.Key };
            Scope.Ledger.Failed(failure);
            Scope.Abort(failure);
            return new Item<TOut>(item.Key, Prelude.Left<ChildFailure, TOut>(failure));
        }
    }

    private async Task<Either<ChildFailure, TOut>> RunWithPolicyAsync(string key, TIn input)
    {
        var memoryLimit = _memoryLimit;
        for (var attempt = 1; ; attempt++)
        {
            if (Scope.IsAborted)
                return Fail(Scope.AbortedFailure(Name, key, attempt, itemStarted: false));
            var start = DateTimeOffset.UtcNow;
            var (result, pid) = await _pool.InvokeWithProcessIdAsync(input, key, attempt, memoryLimit, Scope.Token).ConfigureAwait(false);
            var end = DateTimeOffset.UtcNow;
            if (result.IsRight)
            {
                Scope.Ledger.Attempt(new ItemRecord(Name, key, attempt, pid, start, end, "Succeeded", ""));
                return result;
            }
            var failure = result.Match(_ => throw new InvalidOperationException(), f => f);
            if (failure is ChildFailure.Cancelled cancelled && Scope.IsAborted)
                failure = Scope.AbortedFailure(Name, key, attempt, cancelled.ItemStarted) with { ProcessId = failure.ProcessId, Elapsed = failure.Elapsed, StderrTail = failure.StderrTail };
            Scope.Ledger.Attempt(new ItemRecord(Name, key, attempt, failure.ProcessId, start, end, failure.Kind, failure.Summary));

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
