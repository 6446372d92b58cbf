using System.Globalization;
using System.Threading.Tasks.Dataflow;
using LanguageExt;
using Microsoft.Extensions.Logging;

namespace Nursery;

/// <summary>
/// The scope of one run: it makes the stages and sinks of a pipeline, runs them with one cancellation token, and
/// guarantees that <see cref="RunAsync{T}(IEnumerable{T}, ITargetBlock{Item{T}}, Func{T, string}?, CancellationToken)"/>
/// returns (after a fail-fast failure, the deadline, the caller's token or the end of the input), that every child
/// process it started is reaped before it returns, and that every input is counted exactly once in the result.
/// One scope runs one pipeline once.
/// </summary>
public sealed partial class NurseryScope : IAsyncDisposable, IDisposable
{
    private readonly List<INurseryBlock> _blocks = [];
    private readonly CancellationTokenSource _abort = new();
    private readonly Lock _gate = new();
    private readonly TaskCompletionSource _aborted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? _stopping;
    private bool _blocksStarted;
    private Ledger? _ledger;
    private string _abortReason = "";
    private AbortCause _abortCause;
    private ChildFailure? _abortFailure;
    private int _state;
    private volatile bool _aborting;

    /// <summary>Makes a scope with these options.</summary>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public NurseryScope(NurseryOptions? options = null) => Options = (options ?? new NurseryOptions()).Validate();

    /// <summary>The scope's options.</summary>
    public NurseryOptions Options { get; }

    /// <summary>Cancelled when the run aborts; give it to your own blocks and work so they stop with the run.</summary>
    public CancellationToken Token => _abort.Token;

    /// <summary>Whether the run has aborted.</summary>
    public bool IsAborted => _aborting;

    internal Ledger Ledger => _ledger ?? throw new InvalidOperationException("The run has not started.");

    /// <summary>
    /// A stage running <paramref name="body"/> (a static method or a lambda that captures nothing) in child processes.
    /// The children run the body's code afresh: static fields set in this process are not seen there.
    /// </summary>
    /// <exception cref="ArgumentException">The body cannot run in a child (it captures variables, lives in a dynamic assembly, or its types cannot be serialized), or an option is out of range.</exception>
    public Stage<TIn, TOut> Stage<TIn, TOut>(Func<TIn, TOut> body, StageOptions? options = null) => Stage(Nursery.Body.From(body), options);

    /// <summary>A stage running an asynchronous body in child processes.</summary>
    /// <exception cref="ArgumentException">As for the synchronous overload.</exception>
    public Stage<TIn, TOut> StageAsync<TIn, TOut>(Func<TIn, Task<TOut>> body, StageOptions? options = null) => Stage(Nursery.Body.FromAsync(body), options);

    /// <summary>A stage running a prepared <see cref="Body{TIn,TOut}"/> (with an initializer, say) in child processes.</summary>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public Stage<TIn, TOut> Stage<TIn, TOut>(Body<TIn, TOut> body, StageOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(body);
        EnsureNotRunning();
        options ??= new StageOptions();
        var name = string.IsNullOrWhiteSpace(options.Name) ? body.Method.MethodName : options.Name;
        return Add(new Stage<TIn, TOut>(this, pool => new WorkerPool<TIn, TOut>(body, pool), options, UniqueName(name)));
    }

    /// <summary>A stage that runs a program once per item (GNU parallel style); see <see cref="PerItemCommand{TIn,TOut}"/>.</summary>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public Stage<TIn, TOut> CommandStage<TIn, TOut>(PerItemCommand<TIn, TOut> command, StageOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(command);
        EnsureNotRunning();
        options ??= new StageOptions();
        RefuseRemoteLauncher(options);
        var name = string.IsNullOrWhiteSpace(options.Name) ? Path.GetFileName(command.Executable) : options.Name;
        return Add(new Stage<TIn, TOut>(this, pool => new PerItemRunner<TIn, TOut>(command, pool), options with { ItemsPerWorker = 1 }, UniqueName(name)));
    }

    /// <summary>A stage served by long-lived programs speaking newline-delimited JSON; see <see cref="PersistentCommand{TIn,TOut}"/>.</summary>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public Stage<TIn, TOut> CommandStage<TIn, TOut>(PersistentCommand<TIn, TOut> command, StageOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(command);
        EnsureNotRunning();
        options ??= new StageOptions();
        RefuseRemoteLauncher(options);
        var name = string.IsNullOrWhiteSpace(options.Name) ? Path.GetFileName(command.Executable) : options.Name;
        return Add(new Stage<TIn, TOut>(this, pool => new WorkerPool<TIn, TOut>(command, pool), options, UniqueName(name)));
    }

    private Stage<TIn, TOut> Add<TIn, TOut>(Stage<TIn, TOut> stage)
    {
        lock (_gate)
            _blocks.Add(stage);
        return stage;
    }

    private static void RefuseRemoteLauncher(StageOptions options)
    {
        if (options.Worker.Launcher.IsRemote)
        {
            throw new ArgumentException(
                $"Command stages run their programs on this machine; StageOptions.Worker.Launcher ({options.Worker.Launcher}) applies to .NET bodies only. "
                    + "Run the program from a .NET body on the cluster, or leave the launcher as Launcher.Local for this stage.",
                nameof(options)
            );
        }
    }

    /// <summary>An in-process sink that runs <paramref name="action"/> on every successful item.</summary>
    public Sink<T> Sink<T>(Action<T> action, SinkOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(action);
        return Sink<T>(
            value =>
            {
                action(value);
                return Task.CompletedTask;
            },
            options
        );
    }

    /// <summary>An in-process sink that awaits <paramref name="action"/> on every successful item.</summary>
    public Sink<T> Sink<T>(Func<T, Task> action, SinkOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(action);
        EnsureNotRunning();
        options = (options ?? new SinkOptions()).Validate();
        var sink = new Sink<T>(this, action, options with { Name = UniqueName(options.Name) });
        lock (_gate)
            _blocks.Add(sink);
        return sink;
    }

    /// <summary>
    /// Feeds <paramref name="source"/> (read lazily, with backpressure) into <paramref name="entry"/> and returns when
    /// every item has ended or the run has aborted; every child is reaped first. Never throws for a child's failure;
    /// the result says what became of every input.
    /// </summary>
    /// <param name="source">
    /// The items; read one at a time, on a pool thread, as the pipeline has room, and not again after an abort. A null
    /// item is that item's failure (<c>Nursery.NullInput</c>) under the first block's policy.
    /// </param>
    /// <param name="entry">The first block, made by this scope.</param>
    /// <param name="key">
    /// The key of an item (for failures, the job log and resuming); its index in the source by default. A key function
    /// that throws or returns null for a value aborts the run.
    /// </param>
    /// <param name="cancellationToken">Aborts the run.</param>
    /// <exception cref="ArgumentException"><paramref name="entry"/> was not made by this scope.</exception>
    /// <exception cref="InvalidOperationException">The scope has already run.</exception>
    /// <exception cref="InvalidDataException"><see cref="NurseryOptions.JobLog"/> names a file that is not a job log of this format and version (the message says what to do).</exception>
    public Task<PipelineResult> RunAsync<T>(IEnumerable<T> source, ITargetBlock<Item<T>> entry, Func<T, string>? key = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        return RunAsync(new SynchronousSource<T>(source), entry, key, cancellationToken);
    }

    /// <summary>
    /// As the <see cref="IEnumerable{T}"/> overload, for an asynchronous source. Its enumerator is given
    /// <see cref="Token"/>: a source that waits for items should stop when it is cancelled. A read that does not is left
    /// behind once the drain timeout after an abort has passed (a warning is logged), so that the run returns.
    /// </summary>
    public async Task<PipelineResult> RunAsync<T>(IAsyncEnumerable<T> source, ITargetBlock<Item<T>> entry, Func<T, string>? key = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(entry);
        if (entry is not INurseryBlock first || first.Scope != this)
            throw new ArgumentException("The entry block must be a stage or sink made by this NurseryScope, so its items are accounted for.", nameof(entry));
        if (Interlocked.CompareExchange(ref _state, 1, 0) != 0)
            throw new InvalidOperationException("A NurseryScope runs once; make a new scope for another run.");

        var settled = new List<string>();
        IReadOnlySet<string> resumed = Options.Resume ? ResumedKeys(settled) : new System.Collections.Generic.HashSet<string>();
        var jobLog = Options.JobLog.Length > 0 ? JobLog.Open(Options.JobLog, Options.SyncJobLog, Options.Logger) : null;
        jobLog?.Settled(settled);
        _ledger = new Ledger(Options, jobLog);
        using var callerRegistration = cancellationToken.Register(() => Abort("the caller cancelled the run", null, AbortCause.Caller));
        using var deadline = Options.Deadline == Timeout.InfiniteTimeSpan ? null : new CancellationTokenSource(Options.Deadline);
        using var deadlineRegistration = deadline?.Token.Register(() => Abort($"the run's deadline of {ChildFailure.FormatDuration(Options.Deadline)} passed", null, AbortCause.Deadline));
        using var progress = Options.Progress.MatchUnsafe(p => new Timer(_ => p.Report(_ledger.Progress()), null, Options.ProgressInterval, Options.ProgressInterval), () => null);

        INurseryBlock[] blocks;
        lock (_gate)
            blocks = [.. _blocks];
        WireCompletion(blocks, first);
        var starts = blocks.Select(block => StartQuietlyAsync(block)).ToArray();
        bool abortedBeforeStart;
        lock (_gate)
        {
            _blocksStarted = true;
            abortedBeforeStart = _abortReason.Length > 0;
        }
        if (abortedBeforeStart)
            _ = StopBlocksAsync();

        // After an abort the run waits up to the drain timeout for what is still going: the source's read, the blocks.
        var drainedAfterAbort = _aborted.Task.ContinueWith(_ => Task.Delay(Options.DrainTimeout), TaskScheduler.Default).Unwrap();
        var feed = new FeedState();
        await WaitForFeedAsync(FeedAsync(source, entry, key, resumed, feed), feed, drainedAfterAbort).ConfigureAwait(false);
        first.Complete();
        await WaitForEndAsync(blocks, drainedAfterAbort).ConfigureAwait(false);

        foreach (var block in blocks)
            block.Complete();
        await StopBlocksAsync().ConfigureAwait(false);
        await Task.WhenAll(starts).ConfigureAwait(false);
        if (jobLog is not null)
            await jobLog.DisposeAsync().ConfigureAwait(false);
        Options.Progress.IfSome(p => p.Report(_ledger.Progress()));
        Interlocked.Exchange(ref _state, 2);
        string reason;
        AbortCause cause;
        lock (_gate)
            (reason, cause) = (_abortReason, _abortCause);
        return _ledger.Result(completed: reason.Length == 0, reason, cause);
    }

    /// <summary>
    /// The keys a resumed run skips: those the job log records as succeeded, and those in doubt the user says the sink
    /// has (also put in <paramref name="settled"/>, for their end lines).
    /// </summary>
    private System.Collections.Generic.HashSet<string> ResumedKeys(List<string> settled)
    {
        var skipped = new System.Collections.Generic.HashSet<string>(StringComparer.Ordinal);
        var inDoubt = 0;
        foreach (var (key, state) in JobLog.Read(Options.JobLog))
        {
            if (state == JobLog.KeyState.Succeeded)
                skipped.Add(key);
            else
            {
                inDoubt++;
                if (Options.ResumeInDoubt is { } delivered && delivered(key))
                {
                    skipped.Add(key);
                    settled.Add(key);
                }
            }
        }
        if (inDoubt > 0)
            JobLog.LogInDoubt(Options.Logger, Options.JobLog, inDoubt, Options.ResumeInDoubt is null ? "they run again (set NurseryOptions.ResumeInDoubt to ask the sink which it has)" : "NurseryOptions.ResumeInDoubt decided which to skip");
        return skipped;
    }

    /// <summary>Aborts the run if it is running and reaps every child. Safe to call many times.</summary>
    public async ValueTask DisposeAsync()
    {
        Abort("the scope was disposed", null, AbortCause.Disposed);
        INurseryBlock[] blocks;
        lock (_gate)
            blocks = [.. _blocks];
        foreach (var block in blocks)
            block.Complete();
        await StopBlocksAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Stops every block's children (each stage's pool disposed: stdin closed, killed after the kill grace, reaped),
    /// once. Started as soon as a running run aborts — its children's work is no longer wanted, and their kill and reap
    /// then overlap the blocks' draining instead of following it (a fail-fast probe: abort → RunAsync returned, median
    /// 20.6 → 15 ms) — else when the run ends or the scope is disposed. Awaited before RunAsync returns and by
    /// DisposeAsync.
    /// </summary>
    private Task StopBlocksAsync()
    {
        lock (_gate)
        {
            if (_stopping is null)
            {
                INurseryBlock[] blocks = [.. _blocks];
                _stopping = Task.Run(() => Task.WhenAll(blocks.Select(block => block.StopAsync().AsTask())));
            }
            return _stopping;
        }
    }

    /// <summary>As <see cref="DisposeAsync"/>, blocking until every child is reaped (for F# <c>use</c> and synchronous code; prefer <c>await using</c>).</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    internal void EnsureNotRunning()
    {
        if (Volatile.Read(ref _state) != 0)
            throw new InvalidOperationException("The pipeline is already running (or has run); build and link every block before RunAsync.");
    }

    /// <summary>A fail-fast failure: the first one aborts the run. Cancellations never do.</summary>
    internal void Abort(ChildFailure failure)
    {
        if (failure is ChildFailure.Cancelled)
            return;
        Abort($"{failure.Kind} of item {(failure.Key.Length == 0 ? "(none)" : failure.Key)} in {failure.Stage}: {failure.Summary}", failure, AbortCause.Failure);
    }

    internal void AbortForBlock(string what, Exception exception)
    {
        var failure = new ChildFailure.Faulted(RemoteError.From(exception)) { Stage = what };
        Abort($"{what}: {exception.GetType().Name}: {exception.Message}", failure, AbortCause.BlockFaulted);
    }

    /// <summary>A stage whose pool has failed for good (restart intensity) cannot process anything: the run aborts, whatever the policy.</summary>
    internal void AbortForFailedStage(ChildFailure failure) =>
        Abort($"stage {failure.Stage} stopped starting children: {failure.Summary}", failure, AbortCause.StageFailed);

    private void Abort(string reason, ChildFailure? failure, AbortCause cause)
    {
        bool blocksStarted;
        lock (_gate)
        {
            if (_abortReason.Length > 0)
                return;
            _abortReason = reason;
            _abortFailure = failure;
            _abortCause = cause;
            blocksStarted = _blocksStarted;
            _aborting = true;
        }
        _aborted.TrySetResult();
        _ = Task.Run(_abort.Cancel);
        if (blocksStarted)
            _ = StopBlocksAsync();
    }

    /// <summary>The Cancelled failure of an item stopped by the abort, naming its cause.</summary>
    internal ChildFailure AbortedFailure(string stage, string key, int attempt, bool itemStarted)
    {
        string reason;
        ChildFailure? cause;
        lock (_gate)
        {
            reason = _abortReason;
            cause = _abortFailure;
        }
        // With a cause the summary names it ("because of ..."); without one (deadline, caller, disposal) the reason says why.
        var text = cause is null ? $"the run was aborted ({reason})" : "the run was aborted";
        return new ChildFailure.Cancelled(text, cause is null ? Option<ChildFailure>.None : cause, itemStarted) { Stage = stage, Key = key, Attempt = attempt };
    }

    /// <summary>Waits before a retry; false if the run aborted meanwhile.</summary>
    internal async Task<bool> DelayAsync(TimeSpan wait)
    {
        if (wait <= TimeSpan.Zero)
            return !IsAborted;
        try
        {
            await Task.Delay(wait, Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Aborts the run if <paramref name="block"/> faults (a user's block, or a defect in ours).</summary>
    internal void Watch(IDataflowBlock block, string what) =>
        _ = block.Completion.ContinueWith(
            completed => AbortForBlock($"{what} faulted", completed.Exception?.GetBaseException() ?? new InvalidOperationException("faulted")),
            CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default
        );

    /// <summary>
    /// Reads the source into the entry, a chunk at a time, until the source ends or the run aborts. The abort is
    /// checked before each read, so the source is not read again after it; an item a read gives has left the source
    /// and is counted whatever happened meanwhile (after an abort it ends Cancelled). The reads are marked in
    /// <paramref name="state"/>: one still going long after an abort is left behind by <see cref="WaitForFeedAsync"/>,
    /// which then settles what the feed holds; what such a read gives later is logged, not counted.
    /// </summary>
    private async Task FeedAsync<T>(IAsyncEnumerable<T> source, ITargetBlock<Item<T>> entry, Func<T, string>? key, IReadOnlySet<string> resumed, FeedState state)
    {
        // Off the caller's thread and context: a source that blocks blocks a pool thread, never the caller of RunAsync.
        await Task.CompletedTask.ConfigureAwait(ConfigureAwaitOptions.ForceYielding);
        var ledger = Ledger;
        var entryBlock = (INurseryBlock)entry;
        // Every block of the scope (RunAsync checked the entry is one) is handed the items an array at a time: what
        // the source gives at once, up to a chunk.
        var inlet = ((IInletBlock<T>)entry).Inlet;
        var chunk = new List<Item<T>>();
        // A chunk is up to an eighth of what the entry may hold now (it adapts to its batches), at most 128 items.
        int ChunkSize() => Math.Clamp(inlet.Capacity / 8, 1, 128);
        var index = 0L;
        // Inputs are counted a chunk at a time (before the chunk can reach a block, or when it fails unsent): one
        // interlocked add per chunk instead of one per item.
        var uncounted = 0;
        // Run by WaitForFeedAsync, under the state's lock, when it leaves the feed stuck in a read: the feed touches
        // neither the chunk nor the books again.
        state.Settle = FailUnsent;
        IAsyncEnumerator<T>? items = null;
        var left = false;
        try
        {
            state.BeginRead();
            try
            {
                items = source.GetAsyncEnumerator(Token);
            }
            finally
            {
                state.EndRead();
            }
            while (!IsAborted)
            {
                bool more;
                var sent = true;
                T value = default!;
                string itemKey = "";
                Exception? keyError = null;
                // The read, and the key function with it: either may fail to return, and the run can leave either behind.
                state.BeginRead();
                try
                {
                    var next = items.MoveNextAsync();
                    if (!next.IsCompleted && chunk.Count > 0)
                    {
                        // Never hold read items while waiting for the source.
                        state.EndRead();
                        sent = await SendChunkAsync().ConfigureAwait(false);
                        state.BeginRead();
                    }
                    more = await next.ConfigureAwait(false);
                    if (more)
                    {
                        value = items.Current;
                        itemKey = KeyOf(value, index, out keyError);
                    }
                }
                finally
                {
                    state.EndRead();
                }
                if (IsAborted && state.IsLeft)
                {
                    left = true;
                    if (more)
                        LogItemsAfterReturn(Options.Logger, itemKey);
                    break;
                }
                if (!more)
                    break;
                Take(value, itemKey, keyError);
                if (!sent || (chunk.Count >= ChunkSize() && !await SendChunkAsync().ConfigureAwait(false)))
                    break;
            }
            if (chunk.Count > 0 && !IsAborted)
                await SendChunkAsync().ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (IsAborted) { }
        catch (Exception exception)
        {
            // What was read before the source failed ends Cancelled, naming the failure.
            AbortForBlock("reading the source", exception);
        }
        if (items is not null)
        {
            state.BeginRead();
            try
            {
                await items.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception exception)
            {
                AbortForBlock("disposing the source's enumerator", exception);
            }
            finally
            {
                state.EndRead();
            }
        }
        if (left || (IsAborted && state.IsLeft))
            return;
        FailUnsent();
        lock (state.Gate)
            state.Finished = true;
        ledger.SourceDone();

        // Puts the item into the chunk, or ends it at once when it cannot go on (a null, a key that cannot be made).
        void Take(T value, string itemKey, Exception? keyError)
        {
            var at = index++;
            ChildFailure? failure = null;
            if (value is null)
                failure = NullInput(entryBlock.Name, itemKey, at);
            else if (keyError is not null)
                failure = new ChildFailure.Faulted(RemoteError.From(keyError)) { Stage = "(key)", Key = itemKey };
            else if (resumed.Contains(itemKey))
            {
                ledger.Resumed();
                return;
            }
            uncounted++;
            if (failure is null)
            {
                chunk.Add(new Item<T>(itemKey, Prelude.Right<ChildFailure, T>(value!)));
                return;
            }
            // Counted with what is in the chunk (counting ahead of the send is fine), then ended here.
            CountInputs();
            ledger.Failed(failure);
            if (keyError is not null && value is not null)
                Abort($"the key function failed for the item at index {at}: {failure.Summary}", failure, AbortCause.BlockFaulted);
            else if ((entryBlock.Policy is RetryPolicy retry ? retry.Then : entryBlock.Policy) == Policy.FailFast)
                Abort(failure);
        }

        // The item's key: its index unless a key function is given; its index too, with the error, when that fails.
        string KeyOf(T value, long at, out Exception? error)
        {
            error = null;
            if (key is not null)
            {
                try
                {
                    return key(value) ?? throw new InvalidOperationException("the key function returned null; a key must be a string");
                }
                catch (Exception exception)
                {
                    error = exception;
                }
            }
            return at.ToString(CultureInfo.InvariantCulture);
        }

        // False when the entry declined (the items are counted failed); false also ends the feed after an abort.
        async Task<bool> SendChunkAsync()
        {
            CountInputs();
            if (await inlet.WriteAsync([.. chunk], Token).ConfigureAwait(false))
            {
                chunk.Clear();
                return true;
            }
            FailUnsent();
            return !IsAborted;
        }

        void CountInputs()
        {
            if (uncounted > 0)
                ledger.Input(uncounted);
            uncounted = 0;
        }

        void FailUnsent()
        {
            CountInputs();
            foreach (var item in chunk)
                ledger.Failed(IsAborted ? AbortedFailure(entryBlock.Name, item.Key, 1, false) : new ChildFailure.Cancelled("the first block declined the item", Option<ChildFailure>.None, false) { Stage = entryBlock.Name, Key = item.Key });
            chunk.Clear();
        }
    }

    /// <summary>The failure of a null the source gave: a null cannot be sent to a child (nor carried as a Right).</summary>
    private static ChildFailure.Faulted NullInput(string entry, string key, long index) =>
        new(new RemoteError("Nursery.NullInput", $"the source gave null for this item (index {index}); a null cannot be sent to a child: filter nulls out of the source, or give values that carry an empty case (an Option, a record)", "", []))
        {
            Stage = entry,
            Key = key,
        };

    /// <summary>
    /// Waits for the feed. Once the drain timeout after an abort has passed, a feed seen in the same read of the source
    /// (a read that ignores the token it was given, or a <c>MoveNext</c> that blocks) is left behind, so that RunAsync
    /// returns: what the feed holds is counted Cancelled and the source counts as done.
    /// </summary>
    private async Task WaitForFeedAsync(Task feeding, FeedState state, Task drainedAfterAbort)
    {
        await Task.WhenAny(feeding, drainedAfterAbort).ConfigureAwait(false);
        while (!feeding.IsCompleted)
        {
            var read = state.CurrentRead;
            // Long enough for the feed's last writes to be seen here, and for a read that returns meanwhile to be seen to.
            await Task.WhenAny(feeding, Task.Delay(FeedState.StuckAfter)).ConfigureAwait(false);
            if (read > 0 && state.TryLeave(read))
            {
                LogSourceLeftBehind(Options.Logger, ChildFailure.FormatDuration(Options.DrainTimeout));
                Ledger.SourceDone();
                return;
            }
        }
        await feeding.ConfigureAwait(false);
    }

    /// <summary>
    /// What the feed and <see cref="WaitForFeedAsync"/> share: which read of the source is going on (marked with plain
    /// volatile writes, nothing interlocked per item), whether the feed has finished, and whether the run has gone on
    /// without it. After an abort the feed checks <see cref="IsLeft"/> after every read, before it touches anything.
    /// </summary>
    private sealed class FeedState
    {
        /// <summary>How long a read must be seen going on before the feed is left behind.</summary>
        public static readonly TimeSpan StuckAfter = TimeSpan.FromMilliseconds(50);

        private long _reads;
        private volatile bool _reading;

        public Lock Gate { get; } = new();

        /// <summary>Under <see cref="Gate"/>: the feed has settled its books.</summary>
        public bool Finished { get; set; }

        /// <summary>Counts and ends what the feed holds; run under <see cref="Gate"/> when the feed is left behind.</summary>
        public Action? Settle { get; set; }

        private bool _left;

        public bool IsLeft
        {
            get
            {
                lock (Gate)
                    return _left;
            }
        }

        /// <summary>The read going on now (numbered from 1), or 0.</summary>
        public long CurrentRead => _reading ? Volatile.Read(ref _reads) : 0;

        public void BeginRead()
        {
            Volatile.Write(ref _reads, _reads + 1);
            _reading = true;
        }

        public void EndRead() => _reading = false;

        /// <summary>Leaves the feed if it is still in read <paramref name="read"/>; false if it has moved on or finished.</summary>
        public bool TryLeave(long read)
        {
            lock (Gate)
            {
                if (Finished || _left || CurrentRead != read)
                    return false;
                _left = true;
                Settle?.Invoke();
                return true;
            }
        }
    }

    [LoggerMessage(EventId = 30, Level = LogLevel.Warning, Message = "The source did not return its next item within the drain timeout ({DrainTimeout}) after the abort; the run returns without it. A source that waits for items should stop when the token given to GetAsyncEnumerator (NurseryScope.Token) is cancelled: what it gives after the run returned is not processed.")]
    private static partial void LogSourceLeftBehind(ILogger logger, string drainTimeout);

    [LoggerMessage(EventId = 31, Level = LogLevel.Warning, Message = "The source gave item \"{Key}\" after the run returned; it was not processed. Make the source stop when the token given to GetAsyncEnumerator (NurseryScope.Token) is cancelled.")]
    private static partial void LogItemsAfterReturn(ILogger logger, string key);

    /// <summary>
    /// Returns when every block has completed. When every input has ended (or, after an abort, the drain timeout has
    /// passed) the blocks get up to the drain timeout to complete by themselves — completion travels down the links
    /// in milliseconds — and only then are they completed by force, their leftover output dropped.
    /// </summary>
    private async Task WaitForEndAsync(INurseryBlock[] blocks, Task drainedAfterAbort)
    {
        var allCompleted = Task.WhenAll(blocks.Select(block => block.Completion));
        await Task.WhenAny(allCompleted, Ledger.Drained, drainedAfterAbort).ConfigureAwait(false);
        if (allCompleted.IsCompleted)
            return;
        if (Ledger.Drained.IsCompleted)
        {
            // Every input is accounted for; Lefts may still be on their way to the end, so no block is completed yet.
            await Task.WhenAny(allCompleted, Task.Delay(Options.DrainTimeout)).ConfigureAwait(false);
            if (allCompleted.IsCompleted)
                return;
        }
        else
        {
            // Items stuck in blocks that cannot deliver (a full, declining or faulted target) after the abort.
            Ledger.Abandon($"the run was aborted ({_abortReason}) and the item did not leave its block within the drain timeout", _abortFailure is null ? Option<ChildFailure>.None : _abortFailure);
        }
        foreach (var block in blocks)
        {
            block.Complete();
            block.DiscardOutput();
        }
        await Task.WhenAny(allCompleted, Task.Delay(Options.DrainTimeout)).ConfigureAwait(false);
    }

    private static void WireCompletion(INurseryBlock[] blocks, INurseryBlock entry)
    {
        foreach (var block in blocks)
        {
            if (block == entry || block.Upstreams.Count == 0)
                continue;
            _ = Task.WhenAll(block.Upstreams.Select(upstream => upstream.Completion)).ContinueWith(_ => block.Complete(), TaskScheduler.Default);
        }
    }

    private static async Task StartQuietlyAsync(INurseryBlock block)
    {
        try
        {
            await block.StartAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is OperationCanceledException or TimeoutException) { }
    }

    private string UniqueName(string name)
    {
        lock (_gate)
        {
            var unique = name;
            for (var n = 2; _blocks.Any(block => block.Name == unique); n++)
                unique = $"{name}#{n}";
            return unique;
        }
    }

    /// <summary>
    /// An <see cref="IEnumerable{T}"/> as the feed reads it: each read is a plain <c>MoveNext</c> on the feed's thread
    /// (no state machine per item). A <c>MoveNext</c> cannot be cancelled: one that blocks is left behind after an abort.
    /// </summary>
    private sealed class SynchronousSource<T>(IEnumerable<T> source) : IAsyncEnumerable<T>
    {
        public IAsyncEnumerator<T> GetAsyncEnumerator(CancellationToken cancellationToken = default) => new Reader(source.GetEnumerator());

        private sealed class Reader(IEnumerator<T> items) : IAsyncEnumerator<T>
        {
            public T Current => items.Current;

            public ValueTask<bool> MoveNextAsync() => new(items.MoveNext());

            public ValueTask DisposeAsync()
            {
                items.Dispose();
                return ValueTask.CompletedTask;
            }
        }
    }
}
