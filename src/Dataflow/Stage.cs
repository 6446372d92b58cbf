using System.Threading.Tasks.Dataflow;
using Nursery.Engines;
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
    private readonly List<INurseryBlock> _upstreams = [];
    private readonly Emissions<TOut> _emissions;
    private readonly BatchRunner<TIn, TOut> _batches;
    private readonly BatchPump<TIn, TOut> _pump;
    private bool _linkedElsewhere;

    internal Stage(NurseryScope scope, Func<PoolOptions, IItemRunner<TIn, TOut>> runner, StageOptions options, string name)
    {
        Scope = scope;
        Name = name;
        _policy = (options.Policy ?? scope.Options.DefaultPolicy).Validate();
        _pool = runner(options.ToPoolOptions(name, scope.Options));
        _emissions = new Emissions<TOut>(options.Ordered);
        _batches = new BatchRunner<TIn, TOut>(scope, name, _pool, new AttemptLoop(name, _policy, new ScopeBooks(scope)), _emissions, options.Worker.MemoryLimit ?? 0);
        _pump = new BatchPump<TIn, TOut>(options.Workers, options.ItemsPerWorker, options.BoundedCapacity ?? 0, _pool.NextBatchSize, _emissions, _batches.RunAsync);
        _inlet = _pump.Inlet;
        _input = new BufferBlock<Item<TIn>>(new DataflowBlockOptions { BoundedCapacity = _inlet.MaxCapacity });
        _output = new BufferBlock<Item<TOut>>(new DataflowBlockOptions { BoundedCapacity = _pump.InFlight });
        _ = _inlet.ForwardFromAsync(_input);
        _ = _pump.RunAsync();
        _ = EmitAsync();
    }

    /// <summary>The stage's name in failures, records and logs.</summary>
    public string Name { get; }

    /// <summary>What runs this stage's items in child processes (a pool of workers, or a process per item).</summary>
    internal IItemRunner<TIn, TOut> Runner => _pool;

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
            _batches.LinkedToScope = true;
            scoped.AddUpstream(this);
            // Made when the run starts: a single scope block is handed whole batches, others are linked then.
            var link = new ScopeLink(this, target, linkOptions);
            lock (_scopeLinks)
                _scopeLinks.Add(link);
            return link;
        }
        if (_batches.LinkedToScope)
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

    ValueTask INurseryBlock.StopAsync() => _pool.DisposeAsync();

    /// <inheritdoc />
    public override string ToString() => $"Stage {Name}";

    /// <summary>Sends every output on, in the order the emissions give them (see <see cref="Emissions{T}"/>), with backpressure; frees a batch's window slot once it is sent.</summary>
    private async Task EmitAsync()
    {
        try
        {
            await foreach (var emission in _emissions.ReadAllAsync().ConfigureAwait(false))
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
                    _pump.Release();
            }
            _output.Complete();
        }
        catch (Exception exception)
        {
            ((IDataflowBlock)_output).Fault(exception);
        }
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

}
