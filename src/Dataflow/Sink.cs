using System.Threading.Tasks.Dataflow;
using LanguageExt;
using Nursery.Engines;

namespace Nursery;

/// <summary>
/// The end of a pipeline, in this process: runs an action on every successful item. Failed items (Lefts) are already
/// in the run's result and are not given to the action. An action that throws is a Faulted failure of the item and,
/// under fail fast, aborts the run like a child's failure. Never faults.
/// </summary>
public sealed class Sink<T> : ITargetBlock<Item<T>>, INurseryBlock, IInletBlock<T>
{
    private readonly InletFront<T> _front;
    private readonly Inlet<T> _inlet;
    private readonly ActionBlock<Item<T>>? _parallel;
    private readonly Task _completion;
    private readonly Func<T, Task> _action;
    private readonly Policy _policy;
    private readonly AttemptLoop _attempts;
    private readonly List<INurseryBlock> _upstreams = [];

    internal Sink(NurseryScope scope, Func<T, Task> action, SinkOptions options)
    {
        Scope = scope;
        Name = options.Name;
        _action = action;
        _policy = (options.Policy ?? scope.Options.DefaultPolicy).Validate();
        _attempts = new AttemptLoop(Name, _policy, new ScopeBooks(scope));
        // Items wait in the inlet (handed over an array at a time by the blocks of the scope, or forwarded from the
        // public face); one loop runs them, or hands them to an action block when the action runs in parallel.
        _front = new InletFront<T>(options.BoundedCapacity);
        _inlet = _front.Inlet;
        if (options.Parallelism > 1)
            _parallel = new ActionBlock<Item<T>>(Process, new ExecutionDataflowBlockOptions { MaxDegreeOfParallelism = options.Parallelism, BoundedCapacity = options.Parallelism });
        _completion = ConsumeAsync();
    }

    /// <summary>The sink's name.</summary>
    public string Name { get; }

    /// <summary>Completes when every accepted item has been handled.</summary>
    public Task Completion => _completion;

    NurseryScope INurseryBlock.Scope => Scope;

    Policy INurseryBlock.Policy => _policy;

    IReadOnlyList<INurseryBlock> INurseryBlock.Upstreams => _upstreams;

    Inlet<T> IInletBlock<T>.Inlet => _inlet;

    internal NurseryScope Scope { get; }

    /// <inheritdoc />
    public void Complete() => _front.Complete();

    /// <summary>A faulting upstream block aborts the run (it does not fault the sink), then the sink completes.</summary>
    public void Fault(Exception exception)
    {
        Scope.AbortForBlock($"a block sending to sink '{Name}' faulted", exception);
        Complete();
    }

    /// <inheritdoc />
    public DataflowMessageStatus OfferMessage(DataflowMessageHeader messageHeader, Item<T> messageValue, ISourceBlock<Item<T>>? source, bool consumeToAccept) =>
        _front.Offer(messageHeader, messageValue, source, consumeToAccept);

    void INurseryBlock.AddUpstream(INurseryBlock upstream) => _upstreams.Add(upstream);

    Task INurseryBlock.StartAsync(CancellationToken cancellationToken)
    {
        if (_parallel is not null)
            Scope.Watch(_parallel, $"sink '{Name}'");
        return Task.CompletedTask;
    }

    void INurseryBlock.DiscardOutput() { }

    ValueTask INurseryBlock.StopAsync() => ValueTask.CompletedTask;

    /// <inheritdoc />
    public override string ToString() => $"Sink {Name}";

    /// <summary>Runs every item that reaches the inlet, in arrival order; completes when the inlet is done. Never faults.</summary>
    private async Task ConsumeAsync()
    {
        var taken = new List<Item<T>[]>();
        try
        {
            while (await _inlet.TakeAsync(taken).ConfigureAwait(false))
            {
                var journal = Scope.Ledger.JobLog;
                foreach (var array in taken)
                {
                    if (journal is not null)
                        Delivering(journal, array);
                    if (_parallel is not null)
                    {
                        foreach (var item in array)
                        {
                            if (!_parallel.Post(item))
                                await _parallel.SendAsync(item).ConfigureAwait(false);
                        }
                        continue;
                    }
                    for (var at = 0; at < array.Length; )
                    {
                        at = RunQuickly(array, at, out var pending);
                        if (pending is not null)
                        {
                            // The end lines of the items done so far are written before the sink waits for an action.
                            if (!pending.IsCompleted)
                                journal?.Flush();
                            await pending.ConfigureAwait(false);
                        }
                    }
                    journal?.Flush();
                }
                taken.Clear();
            }
        }
        catch (Exception exception)
        {
            // A defect: abort the run (its books are settled by the scope) rather than hang it.
            Scope.AbortForBlock($"sink '{Name}' failed", exception);
        }
        if (_parallel is not null)
        {
            _parallel.Complete();
            await _parallel.Completion.ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Runs items of <paramref name="array"/> from <paramref name="from"/> on while their actions complete at once,
    /// counting those successes in one go; stops after an item that must be awaited (its task in
    /// <paramref name="pending"/>). Returns where to go on.
    /// </summary>
    private int RunQuickly(Item<T>[] array, int from, out Task? pending)
    {
        pending = null;
        var succeeded = 0;
        var at = from;
        while (at < array.Length && pending is null)
        {
            pending = Start(array[at++], out var quick);
            if (quick)
                succeeded++;
        }
        if (succeeded > 0)
            Scope.Ledger.SinkSucceeded(Name, succeeded);
        return at;
    }

    /// <summary>
    /// Writes a "(deliver)" line for each value of <paramref name="array"/> with one write, before any of their actions
    /// starts: after a crash, an item whose action may have run has its line, and one without a line never reached
    /// the action.
    /// </summary>
    private void Delivering(JobLog journal, Item<T>[] array)
    {
        var now = DateTimeOffset.UtcNow;
        foreach (var item in array)
        {
            if (item.Value.IsRight)
                journal.Delivering(item.Key, Name, now);
        }
        journal.Flush();
    }

    /// <summary>
    /// One item, for the parallel action block: as <see cref="Start"/>, its quick success counted at once. With a job
    /// log, the item's end line is written as soon as it ends.
    /// </summary>
    private Task Process(Item<T> item)
    {
        var pending = Start(item, out var quick);
        if (quick)
            Scope.Ledger.SinkSucceeded(Name, 1);
        if (pending is not null && Scope.Ledger.JobLog is { } journal)
            return WriteWhenEndedAsync(pending, journal);
        return pending ?? Task.CompletedTask;
    }

    private static async Task WriteWhenEndedAsync(Task pending, JobLog journal)
    {
        try
        {
            await pending.ConfigureAwait(false);
        }
        finally
        {
            journal.Flush();
        }
    }

    /// <summary>
    /// Starts an item's first attempt. The first attempt of an item whose action completes at once (a synchronous
    /// action, as most sinks are) runs without an async state machine — one item's cost at the end of a fast
    /// pipeline — and gives null with <paramref name="quick"/> set: the caller counts the success. A Left gives null
    /// (it is already in the run's result); anything else, the task that ends the item.
    /// </summary>
    private Task<Either<ChildFailure, Unit>>? Start(Item<T> item, out bool quick)
    {
        quick = false;
        if (item.Value.IsLeft)
            return null;
        var value = item.Value.Match(v => v, _ => throw new InvalidOperationException());
        if (Scope.IsAborted || Scope.Ledger.KeepsSuccesses)
            return ProcessAsync(item.Key, value, first: null);
        // The coarse clock (milliseconds, no hardware counter read): a precise one costs a fast pipeline noticeable CPU.
        var startMilliseconds = Environment.TickCount64;
        Task acted;
        try
        {
            acted = _action(value);
        }
        catch (Exception exception)
        {
            acted = Task.FromException(exception);
        }
        if (!acted.IsCompletedSuccessfully)
            return ProcessAsync(item.Key, value, acted, startMilliseconds);
        quick = true;
        return null;
    }

    /// <summary>Runs an item's attempts under the sink's policy; <paramref name="first"/> is its first attempt when already started. Faults only for a defect.</summary>
    private Task<Either<ChildFailure, Unit>> ProcessAsync(string key, T value, Task? first, long firstStartMilliseconds = 0) =>
        _attempts.RunAsync<Unit, ActionAttempt<T>>(key, new ActionAttempt<T>(Scope, Name, _action, key, value, first, firstStartMilliseconds), memoryLimit: 0, firstStarted: first is not null);
}
