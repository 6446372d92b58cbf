using System.Collections.Concurrent;
using System.Diagnostics;
using LanguageExt;
using Nursery.Supervision;

namespace Nursery;

/// <summary>
/// N supervised children running one body. Items go to the least busy child; a dead child is replaced when next
/// needed; items that were queued in a child that died without starting them are sent to another child (their
/// attempt does not change); too many restarts fail the pool (<see cref="ChildFailure.StartFailed"/>) instead of
/// respawning forever. With <see cref="PoolOptions.WarmSpare"/> a ready child waits beside them and replaces a dead one
/// at once. Every call completes exactly once; after <see cref="DisposeAsync"/> every child, the spare too, is reaped.
/// </summary>
public sealed class WorkerPool<TIn, TOut> : IAsyncDisposable
{
    private const int MaxRedispatch = 1000;
    private static readonly TimeSpan SpareRefillDelay = TimeSpan.FromMilliseconds(100);
    private readonly Func<WorkerOptions, CancellationToken, Task<Either<ChildFailure, Worker<TIn, TOut>>>> _start;
    private readonly PoolOptions _options;
    private readonly WorkerOptions _childOptions;
    private readonly Leases<Worker<TIn, TOut>> _leases;
    private readonly RestartBudget _budget;
    private readonly Lock _gate = new();
    private readonly ConcurrentBag<int> _processIds = [];
    private readonly ConcurrentBag<Task> _background = [];
    private readonly CancellationTokenSource _disposing = new();
    private readonly BatchSizer _sizer = new();
    private ChildFailure? _failure;
    private ChildFailure? _lastEnd;
    private int _starts;
    private Worker<TIn, TOut>? _spare;
    private Task? _spareStarting;

    /// <summary>Makes a pool; no child starts until <see cref="StartAsync"/> or the first item.</summary>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public WorkerPool(Body<TIn, TOut> body, PoolOptions? options = null)
        : this((options ?? new PoolOptions()).Validate(), (worker, token) => Worker.StartAsync(body ?? throw new ArgumentNullException(nameof(body)), worker, token)) { }

    /// <summary>Makes a pool of persistent command workers (newline-delimited JSON); none starts until <see cref="StartAsync"/> or the first item.</summary>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public WorkerPool(PersistentCommand<TIn, TOut> command, PoolOptions? options = null)
        : this((options ?? new PoolOptions()).Validate(), (worker, token) => Worker.StartAsync(command ?? throw new ArgumentNullException(nameof(command)), worker, token)) { }

    private WorkerPool(PoolOptions options, Func<WorkerOptions, CancellationToken, Task<Either<ChildFailure, Worker<TIn, TOut>>>> start)
    {
        _start = start;
        _options = options;
        _childOptions = options.ChildOptions();
        _leases = new Leases<Worker<TIn, TOut>>(options.Workers);
        _budget = new RestartBudget(options);
    }

    /// <summary>Every process id this pool has started (its warm spares too), for accounting and tests.</summary>
    public IReadOnlyCollection<int> ProcessIds => [.. _processIds];

    /// <summary>How many child processes this pool has started (its warm spares too).</summary>
    public int Spawns => Volatile.Read(ref _starts);

    /// <summary>The pid of the warm spare when one is ready, else 0.</summary>
    internal int SpareProcessId
    {
        get
        {
            lock (_gate)
                return _spare?.ProcessId ?? 0;
        }
    }

    /// <summary>The failure that ended the pool (too many restarts), if it has failed.</summary>
    public Option<ChildFailure> Failure
    {
        get
        {
            lock (_gate)
                return _failure is null ? Option<ChildFailure>.None : _failure;
        }
    }

    /// <summary>The options in force.</summary>
    public PoolOptions Options => _options;

    /// <summary>What each child of the pool starts with: <see cref="PoolOptions.Worker"/>, its frames bounded by <see cref="PoolOptions.ItemsPerWorker"/>.</summary>
    internal WorkerOptions ChildOptions => _childOptions;

    /// <summary>Starts every child now when <see cref="PoolOptions.StartEagerly"/> is set; completes when they are ready or have failed.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (!_options.StartEagerly)
            return;
        var starts = new List<Task>();
        lock (_gate)
        {
            foreach (var slot in _leases.Slots)
            {
                if (slot.Current is null && slot.Starting is null)
                    slot.Starting = StartMemberAsync(slot);
                if (slot.Starting is not null)
                    starts.Add(slot.Starting);
            }
        }
        await Task.WhenAll(starts).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Runs one item in one of the children. Completes with the result or the failure; never throws for anything a
    /// child does. <paramref name="memoryLimit"/> above the pool's runs the item in a one-off child with that limit
    /// (used to retry after an OOM kill). Cancelling kills the child running the item.
    /// </summary>
    public async Task<Either<ChildFailure, TOut>> InvokeAsync(TIn input, string key, int attempt = 1, long memoryLimit = 0, CancellationToken cancellationToken = default) =>
        (await InvokeWithProcessIdAsync(input, key, attempt, memoryLimit, cancellationToken).ConfigureAwait(false)).Result;

    /// <summary>As <see cref="InvokeAsync"/>, with the pid of the child that answered (0 if none did).</summary>
    public async Task<(Either<ChildFailure, TOut> Result, int ProcessId)> InvokeWithProcessIdAsync(TIn input, string key, int attempt, long memoryLimit, CancellationToken cancellationToken)
    {
        if (memoryLimit > 0 && memoryLimit != _options.Worker.MemoryLimit)
            return await RunInOneOffChildAsync(input, key, attempt, memoryLimit, cancellationToken).ConfigureAwait(false);
        for (var round = 0; ; round++)
        {
            var lease = await LeaseAsync(1, key, attempt, cancellationToken).ConfigureAwait(false);
            if (lease.IsLeft)
                return (lease.Map(_ => default(TOut)!), 0);
            var member = lease.Match(m => m, _ => throw new UnreachableException());
            Either<ChildFailure, TOut> result;
            try
            {
                result = await member.Worker.InvokeAsync(input, key, attempt, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                Release(member, 1);
            }
            var redispatch = result.IsLeft && result.Case is ChildFailure.Cancelled { ItemStarted: false } && !cancellationToken.IsCancellationRequested && !_disposing.IsCancellationRequested;
            if (!redispatch || round >= MaxRedispatch)
                return (result, member.Worker.ProcessId);
        }
    }

    /// <summary>
    /// Runs a batch of items as one unit in one child (re-sending to another child the items its child ended before
    /// starting), with one completion for the batch: much cheaper per item than <see cref="InvokeAsync"/> for small
    /// items. Results are in the order of <paramref name="inputs"/>; every item ends exactly once, with its result or
    /// its own failure, and the pid of the child that ran it. Never throws for anything a child does.
    /// </summary>
    /// <param name="inputs">The items, sent in this order.</param>
    /// <param name="keys">The items' keys, for failures and logs (as many as the inputs).</param>
    /// <param name="cancellationToken">Drops the items not yet started and kills the child running one.</param>
    /// <exception cref="ArgumentException"><paramref name="keys"/> and <paramref name="inputs"/> differ in length.</exception>
    public Task<(Either<ChildFailure, TOut> Result, int ProcessId)[]> InvokeBatchAsync(IReadOnlyList<TIn> inputs, IReadOnlyList<string> keys, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(keys);
        if (keys.Count != inputs.Count)
            throw new ArgumentException($"{keys.Count} keys were given for {inputs.Count} inputs; give one key per input.", nameof(keys));
        return InvokeBatchCoreAsync(inputs, index => keys[index], cancellationToken);
    }

    /// <summary>
    /// Runs every item of <paramref name="inputs"/> (read lazily) and yields the results in input order, like
    /// <c>multiprocessing.Pool.imap</c>: items go to the children in batches whose size adapts to how long items take
    /// (large for fast items, one at a time for slow ones), at most two batches per child at once. An item's key in
    /// failures is its index in <paramref name="inputs"/>. Leaving the loop early cancels the items still in flight.
    /// </summary>
    public IAsyncEnumerable<Either<ChildFailure, TOut>> MapAsync(IEnumerable<TIn> inputs, CancellationToken cancellationToken = default) =>
        PoolMap.MapAsync(this, inputs, cancellationToken);

    /// <summary>
    /// As <see cref="MapAsync(IEnumerable{TIn}, CancellationToken)"/>, for an asynchronous source (a channel's
    /// <c>ReadAllAsync()</c>, a database reader, another pipeline's stream): read as the children have room — at most
    /// two batches per child in flight, so a slow consumer slows the source and memory stays bounded — with a batch
    /// sent as soon as the source makes it wait, and results in input order. The source's enumerator gets a token that
    /// is cancelled when the loop is left early or <paramref name="cancellationToken"/> fires; the items in flight are
    /// then cancelled too, and the source's pending read is waited for before the source is disposed.
    /// </summary>
    public IAsyncEnumerable<Either<ChildFailure, TOut>> MapAsync(IAsyncEnumerable<TIn> inputs, CancellationToken cancellationToken = default) =>
        PoolMap.MapAsync(this, inputs, cancellationToken);

    /// <summary>
    /// How many items to give <see cref="InvokeBatchAsync"/> next, at most <paramref name="max"/>: about 2 ms of a
    /// child's work, learned from the batches this pool has run (timed from a ready child on); 1 until one has completed.
    /// </summary>
    public int NextBatchSize(int max) => _sizer.Next(max);

    private async Task<(Either<ChildFailure, TOut> Result, int ProcessId)[]> InvokeBatchCoreAsync(IReadOnlyList<TIn> inputs, Func<int, string> keyOf, CancellationToken cancellationToken)
    {
        var results = new (Either<ChildFailure, TOut> Result, int ProcessId)[inputs.Count];
        if (inputs.Count == 0)
            return results;
        IReadOnlyList<TIn> pending = inputs;
        int[]? positions = null;
        for (var round = 0; ; round++)
        {
            var count = pending.Count;
            var at = positions;
            var lease = await LeaseAsync(count, keyOf(at?[0] ?? 0), 1, cancellationToken).ConfigureAwait(false);
            if (lease.IsLeft)
            {
                var failure = lease.Match(_ => throw new UnreachableException(), f => f);
                for (var i = 0; i < count; i++)
                {
                    var position = at?[i] ?? i;
                    results[position] = (Prelude.Left<ChildFailure, TOut>(failure with { Key = keyOf(position), Attempt = 1 }), 0);
                }
                return results;
            }
            var member = lease.Match(m => m, _ => throw new UnreachableException());
            // Timed from a ready child on, so a child's start-up is not taken for the items' cost.
            var sent = Stopwatch.GetTimestamp();
            try
            {
                await member.Worker.InvokeBatchAsync(pending, at is null ? keyOf : index => keyOf(at[index]), 1, results, at, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                Release(member, count);
            }
            _sizer.Observe(count, Stopwatch.GetTimestamp() - sent);
            List<int>? again = null;
            var redispatch = round < MaxRedispatch && !cancellationToken.IsCancellationRequested && !_disposing.IsCancellationRequested;
            for (var i = 0; redispatch && i < count; i++)
            {
                var position = at?[i] ?? i;
                var result = results[position].Result;
                if (result.IsLeft && result.Case is ChildFailure.Cancelled { ItemStarted: false })
                    (again ??= []).Add(position);
            }
            if (again is null)
                return results;
            positions = [.. again];
            pending = [.. again.Select(position => inputs[position])];
        }
    }

    /// <summary>Kills every child (closing stdin first, then after the kill grace) and waits until all are reaped.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposing.IsCancellationRequested)
            return;
        await _disposing.CancelAsync().ConfigureAwait(false);
        var members = new List<Lease<Worker<TIn, TOut>>>();
        var starting = new List<Task>();
        Worker<TIn, TOut>? spare;
        lock (_gate)
        {
            spare = _spare;
            _spare = null;
            if (_spareStarting is not null)
                starting.Add(_spareStarting);
            foreach (var slot in _leases.Slots)
            {
                if (slot.Current is not null)
                    members.Add(slot.Current);
                if (slot.Starting is not null)
                    starting.Add(slot.Starting);
                slot.Current = null;
            }
        }
        await Task.WhenAll(starting).ConfigureAwait(false);
        lock (_gate)
        {
            foreach (var slot in _leases.Slots)
            {
                if (slot.Current is not null && !members.Contains(slot.Current))
                    members.Add(slot.Current);
                slot.Current = null;
            }
        }
        var disposals = members.Select(member => member.Worker.DisposeAsync().AsTask()).ToList();
        if (spare is not null)
            disposals.Add(spare.DisposeAsync().AsTask());
        await Task.WhenAll(disposals).ConfigureAwait(false);
        await Task.WhenAll(_background).ConfigureAwait(false);
        await _options.Worker.Launcher.AfterPoolAsync().ConfigureAwait(false);
        _disposing.Dispose();
    }

    /// <summary>
    /// A child for <paramref name="items"/> items: a ready one at once (no allocation, no await), else the wait for one
    /// to start; or why none can take them.
    /// </summary>
    private ValueTask<Either<ChildFailure, Lease<Worker<TIn, TOut>>>> LeaseAsync(int items, string key, int attempt, CancellationToken cancellationToken) =>
        TryAcquireReady(items, cancellationToken, out var ready)
            ? ValueTask.FromResult(Prelude.Right<ChildFailure, Lease<Worker<TIn, TOut>>>(ready))
            : new ValueTask<Either<ChildFailure, Lease<Worker<TIn, TOut>>>>(AcquireAsync(key, attempt, items, cancellationToken));

    /// <summary>Takes the least busy ready child, if the least busy slot has one and nothing stands in the way; else false.</summary>
    private bool TryAcquireReady(int items, CancellationToken cancellationToken, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Lease<Worker<TIn, TOut>>? member)
    {
        lock (_gate)
        {
            member = null;
            if (_failure is not null || _disposing.IsCancellationRequested || cancellationToken.IsCancellationRequested)
                return false;
            _leases.Pick(items, out member);
            return member is not null;
        }
    }

    private async Task<Either<ChildFailure, Lease<Worker<TIn, TOut>>>> AcquireAsync(string key, int attempt, int items, CancellationToken cancellationToken)
    {
        // The item waits for the start of the slot it was counted against, not for whichever child is ready first:
        // taking the first ready child would pile the items of a run's start onto it (a hanging item would hold the
        // items queued behind it in that child, a fail-fast failure among them would never run, and the run would
        // hang). Spreading items over the slots is what keeps one child's item from blocking others.
        while (true)
        {
            LeaseSlot<Worker<TIn, TOut>> slot;
            Task<Either<ChildFailure, Lease<Worker<TIn, TOut>>>> starting;
            lock (_gate)
            {
                if (_failure is not null)
                    return Prelude.Left<ChildFailure, Lease<Worker<TIn, TOut>>>(_failure with { Key = key, Attempt = attempt });
                if (_disposing.IsCancellationRequested || cancellationToken.IsCancellationRequested)
                    return Prelude.Left<ChildFailure, Lease<Worker<TIn, TOut>>>(new ChildFailure.Cancelled("the pool was stopped before the item was sent", Option<ChildFailure>.None, false) { Stage = _options.Worker.NameOrDefault, Key = key, Attempt = attempt });
                slot = _leases.Pick(items, out var ready);
                if (ready is not null)
                    return ready;
                if (slot.Starting is null && TakeSpare(slot) is { } taken)
                {
                    if (taken.IsLeft)
                        return taken.Match(_ => throw new UnreachableException(), failure => Prelude.Left<ChildFailure, Lease<Worker<TIn, TOut>>>(failure with { Key = key, Attempt = attempt }));
                    var member = taken.Match(m => m, _ => throw new UnreachableException());
                    member.InFlight += items;
                    return member;
                }
                slot.Waiting++;
                starting = slot.Starting ??= StartMemberAsync(slot);
            }
            try
            {
                await starting.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) { }
            finally
            {
                lock (_gate)
                    slot.Waiting--;
            }
        }
    }

    private async Task<Either<ChildFailure, Lease<Worker<TIn, TOut>>>> StartMemberAsync(LeaseSlot<Worker<TIn, TOut>> slot)
    {
        await Task.Yield();
        ChildFailure? refused = null;
        lock (_gate)
        {
            // A pool being disposed starts nothing more (its disposal may already have collected what it waits for).
            if (_disposing.IsCancellationRequested)
                refused = new ChildFailure.Cancelled("the pool was stopped before the child was started", Option<ChildFailure>.None, false) { Stage = _options.Worker.NameOrDefault };
            else if (_budget.TryStart(Stopwatch.GetTimestamp()) is { } why)
                refused = FailPool(why);
            if (refused is null)
                Interlocked.Increment(ref _starts);
        }
        if (refused is not null)
        {
            lock (_gate)
                slot.Starting = null;
            return refused;
        }

        var started = await _start(_childOptions, _disposing.Token).ConfigureAwait(false);
        started.Match(worker => _processIds.Add(worker.ProcessId), failure => { if (failure.ProcessId > 0) _processIds.Add(failure.ProcessId); });
        return started.Match(
            worker =>
            {
                var member = new Lease<Worker<TIn, TOut>>(worker, slot);
                lock (_gate)
                {
                    _budget.Started();
                    slot.Starting = null;
                    slot.Current = _disposing.IsCancellationRequested ? null : member;
                }
                if (_disposing.IsCancellationRequested)
                    _background.Add(worker.DisposeAsync().AsTask());
                else
                    _background.Add(WatchAsync(member));
                lock (_gate)
                    EnsureSpare();
                return Prelude.Right<ChildFailure, Lease<Worker<TIn, TOut>>>(member);
            },
            failure =>
            {
                lock (_gate)
                {
                    slot.Starting = null;
                    _lastEnd = failure;
                    if (_budget.StartFailed(failure is ChildFailure.Cancelled) is { } why)
                        FailPool(why);
                }
                return Prelude.Left<ChildFailure, Lease<Worker<TIn, TOut>>>(failure);
            }
        );
    }

    /// <summary>
    /// Puts the warm spare, if one is ready, into the empty <paramref name="slot"/> and starts its successor in the
    /// background; null when there is none. Taking it is a restart like any start after a slot's first, so it is counted
    /// against <see cref="PoolOptions.RestartIntensity"/>: the failure when the budget is spent. Called under the lock.
    /// </summary>
    private Either<ChildFailure, Lease<Worker<TIn, TOut>>>? TakeSpare(LeaseSlot<Worker<TIn, TOut>> slot)
    {
        if (_spare is not { IsAlive: true } spare)
            return null;
        if (_budget.TryStart(Stopwatch.GetTimestamp()) is { } why)
            return FailPool(why);
        _spare = null;
        var member = new Lease<Worker<TIn, TOut>>(spare, slot) { RefillSpare = true };
        slot.Current = member;
        _background.Add(WatchAsync(member));
        _background.Add(RefillSpareSoonAsync());
        return member;
    }

    /// <summary>
    /// Starts the successor of a spare just taken once the item it was taken for is done (see <see cref="Release"/>)
    /// or <see cref="SpareRefillDelay"/> has passed, whichever is first: a start at once would take the cores from the
    /// replacement's first item, the one the spare is there to hurry.
    /// </summary>
    private async Task RefillSpareSoonAsync()
    {
        try
        {
            await Task.Delay(SpareRefillDelay, _disposing.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        lock (_gate)
            EnsureSpare();
    }

    /// <summary>
    /// Starts a warm spare in the background when the options ask for one and none is ready or starting. The spare's
    /// own start is not a restart (taking it is), but a spare that fails to start counts as a failed start. Called
    /// under the lock.
    /// </summary>
    private void EnsureSpare()
    {
        if (!_options.WarmSpare || _spare is not null || _spareStarting is not null || _failure is not null || _disposing.IsCancellationRequested)
            return;
        Interlocked.Increment(ref _starts);
        _spareStarting = StartSpareAsync();
    }

    private async Task StartSpareAsync()
    {
        await Task.Yield();
        var started = await _start(_childOptions, _disposing.Token).ConfigureAwait(false);
        started.Match(worker => _processIds.Add(worker.ProcessId), failure => { if (failure.ProcessId > 0) _processIds.Add(failure.ProcessId); });
        if (started.IsLeft)
        {
            var failure = started.Match(_ => throw new UnreachableException(), f => f);
            lock (_gate)
            {
                _spareStarting = null;
                _lastEnd = failure;
                if (_budget.StartFailed(failure is ChildFailure.Cancelled) is { } why)
                    FailPool(why);
            }
            return;
        }
        var spare = started.Match(w => w, _ => throw new UnreachableException());
        bool keep;
        lock (_gate)
        {
            _budget.Started();
            _spareStarting = null;
            keep = !_disposing.IsCancellationRequested && _failure is null;
            if (keep)
                _spare = spare;
        }
        if (!keep)
        {
            await spare.DisposeAsync().ConfigureAwait(false);
            return;
        }
        _background.Add(WatchSpareAsync(spare));
    }

    /// <summary>A spare that ends while it waits is forgotten and reaped; its successor starts with the next child that does.</summary>
    private async Task WatchSpareAsync(Worker<TIn, TOut> spare)
    {
        var ended = await spare.Completion.ConfigureAwait(false);
        lock (_gate)
        {
            if (_spare != spare)
                return;
            _spare = null;
            ended.IfSome(failure => _lastEnd = failure);
        }
        await spare.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Fails the pool for good; every later item gets this StartFailed. Called under the lock.</summary>
    private ChildFailure FailPool(string why)
    {
        var last = _lastEnd is null ? "" : $" The last failure was {_lastEnd.Kind}: {_lastEnd.Summary}";
        _failure ??= new ChildFailure.StartFailed(
            $"{why}, so the pool stopped instead of respawning forever.{last}",
            _lastEnd is ChildFailure.StartFailed { Remote: var remote } ? remote : Option<RemoteError>.None
        )
        {
            Stage = _options.Worker.NameOrDefault,
            StderrTail = _lastEnd?.StderrTail ?? [],
        };
        return _failure;
    }

    private async Task WatchAsync(Lease<Worker<TIn, TOut>> member)
    {
        var ended = await member.Worker.Completion.ConfigureAwait(false);
        lock (_gate)
        {
            if (member.Slot.Current == member)
                member.Slot.Current = null;
            ended.IfSome(failure => _lastEnd = failure);
        }
        await member.Worker.DisposeAsync().ConfigureAwait(false);
    }

    private void Release(Lease<Worker<TIn, TOut>> member, int items)
    {
        bool retire;
        lock (_gate)
        {
            retire = Leases<Worker<TIn, TOut>>.Release(member, items, _options.RecycleAfter ?? 0);
            if (member.RefillSpare)
            {
                member.RefillSpare = false;
                EnsureSpare();
            }
        }
        if (retire)
            _background.Add(member.Worker.DisposeAsync().AsTask());
    }

    private async Task<(Either<ChildFailure, TOut>, int)> RunInOneOffChildAsync(TIn input, string key, int attempt, long memoryLimit, CancellationToken cancellationToken)
    {
        var options = _childOptions with { MemoryLimit = memoryLimit };
        Interlocked.Increment(ref _starts);
        var started = await _start(options, cancellationToken).ConfigureAwait(false);
        if (started.IsLeft)
        {
            var failure = started.Match(_ => throw new UnreachableException(), f => f);
            if (failure.ProcessId > 0)
                _processIds.Add(failure.ProcessId);
            return (Prelude.Left<ChildFailure, TOut>(failure with { Key = key, Attempt = attempt }), failure.ProcessId);
        }
        var worker = started.Match(w => w, _ => throw new UnreachableException());
        _processIds.Add(worker.ProcessId);
        await using (worker.ConfigureAwait(false))
            return (await worker.InvokeAsync(input, key, attempt, cancellationToken).ConfigureAwait(false), worker.ProcessId);
    }
}
