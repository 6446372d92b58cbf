using System.Threading.Tasks.Dataflow;
using LanguageExt;
using Nursery.Engines;

namespace Nursery;

/// <summary>
/// The scope of one run: it makes the stages and sinks of a pipeline, runs them with one cancellation token, and
/// guarantees that <see cref="RunAsync{T}(IEnumerable{T}, ITargetBlock{Item{T}}, Func{T, string}?, CancellationToken)"/>
/// returns (after a fail-fast failure, the deadline, the caller's token or the end of the input), that every child
/// process it started is reaped before it returns, and that every input is counted exactly once in the result.
/// One scope runs one pipeline once.
/// </summary>
public sealed class NurseryScope : IAsyncDisposable, IDisposable
{
    private readonly List<INurseryBlock> _blocks = [];
    private readonly AbortState _abort = new();
    private readonly Lock _gate = new();
    private Task? _stopping;
    private PipelineRun? _run;
    private int _state;

    /// <summary>Makes a scope with these options.</summary>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public NurseryScope(NurseryOptions? options = null) => Options = (options ?? new NurseryOptions()).Validate();

    /// <summary>The scope's options.</summary>
    public NurseryOptions Options { get; }

    /// <summary>Cancelled when the run aborts; give it to your own blocks and work so they stop with the run.</summary>
    public CancellationToken Token => _abort.Token;

    /// <summary>Whether the run has aborted.</summary>
    public bool IsAborted => _abort.IsAborted;

    /// <summary>The span of the stage called <paramref name="name"/> in the current run; null when it is not traced.</summary>
    internal System.Diagnostics.Activity? StageActivity(string name) => _run?.Tracing?.Stage(name);

    internal Ledger Ledger => _run?.Ledger ?? throw new InvalidOperationException("The run has not started.");

    /// <summary>
    /// A stage running <paramref name="body"/> (a static method or a lambda that captures nothing) in child processes.
    /// The children run the body's code afresh: static fields set in this process are not seen there.
    /// </summary>
    /// <exception cref="ArgumentException">The body cannot run in a child (it captures variables, lives in a dynamic assembly, or its types cannot be serialized), or an option is out of range.</exception>
    public Stage<TIn, TOut> Stage<TIn, TOut>(Func<TIn, TOut> body, StageOptions? options = null) => Stage(Nursery.Body.From(body), options);

    /// <summary>
    /// A stage running a body that takes the item's <see cref="CancellationToken"/>: on the item's deadline, the run's
    /// abort or the scope's disposal the child is asked to stop the item (the token is cancelled there) and killed only if
    /// the body has not returned within <see cref="WorkerOptions.KillGrace"/>; see <see cref="Body.From{TIn,TOut}(Func{TIn, CancellationToken, TOut}, ICodec?)"/>.
    /// </summary>
    /// <exception cref="ArgumentException">As for the overload without a token.</exception>
    public Stage<TIn, TOut> Stage<TIn, TOut>(Func<TIn, CancellationToken, TOut> body, StageOptions? options = null) => Stage(Nursery.Body.From(body), options);

    /// <summary>An asynchronous stage body that takes the item's <see cref="CancellationToken"/>; see the synchronous overload.</summary>
    /// <exception cref="ArgumentException">As for the overload without a token.</exception>
    public Stage<TIn, TOut> StageAsync<TIn, TOut>(Func<TIn, CancellationToken, Task<TOut>> body, StageOptions? options = null) => Stage(Nursery.Body.FromAsync(body), options);

    /// <summary>A stage running an asynchronous body in child processes.</summary>
    /// <exception cref="ArgumentException">As for the synchronous overload.</exception>
    public Stage<TIn, TOut> StageAsync<TIn, TOut>(Func<TIn, Task<TOut>> body, StageOptions? options = null) => Stage(Nursery.Body.FromAsync(body), options);

    /// <summary>A stage running a prepared <see cref="Body{TIn,TOut}"/> (with an initializer, say) in child processes.</summary>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public Stage<TIn, TOut> Stage<TIn, TOut>(Body<TIn, TOut> body, StageOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(body);
        EnsureNotRunning();
        options = (options ?? new StageOptions()).Validate();
        var name = options.Name ?? body.Name[(body.Name.LastIndexOf('.') + 1)..];
        return Add(new Stage<TIn, TOut>(this, pool => new PoolRunner<TIn, TOut>(new WorkerPool<TIn, TOut>(body, pool)), options, UniqueName(name)));
    }

    /// <summary>A stage that runs a program once per item (GNU parallel style); see <see cref="PerItemCommand{TIn,TOut}"/>.</summary>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public Stage<TIn, TOut> CommandStage<TIn, TOut>(PerItemCommand<TIn, TOut> command, StageOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(command);
        EnsureNotRunning();
        options = (options ?? new StageOptions()).Validate();
        RefuseRemoteLauncher(options);
        var name = options.Name ?? Path.GetFileName(command.Executable);
        return Add(new Stage<TIn, TOut>(this, pool => new ProgramRunner<TIn, TOut>(new PerItemRunner<TIn, TOut>(command, pool)), options with { ItemsPerWorker = 1 }, UniqueName(name)));
    }

    /// <summary>A stage served by long-lived programs speaking newline-delimited JSON; see <see cref="PersistentCommand{TIn,TOut}"/>.</summary>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public Stage<TIn, TOut> CommandStage<TIn, TOut>(PersistentCommand<TIn, TOut> command, StageOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(command);
        EnsureNotRunning();
        options = (options ?? new StageOptions()).Validate();
        RefuseRemoteLauncher(options);
        var name = options.Name ?? Path.GetFileName(command.Executable);
        return Add(new Stage<TIn, TOut>(this, pool => new PoolRunner<TIn, TOut>(new WorkerPool<TIn, TOut>(command, pool)), options, UniqueName(name)));
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
    /// The end of a pipeline as an <see cref="IAsyncEnumerable{T}"/> of <see cref="Item{T}"/>s, successes and failures,
    /// read with <c>await foreach</c> while <c>RunAsync</c> runs; see <see cref="Results{T}"/>.
    /// </summary>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public Results<T> Results<T>(ResultsOptions? options = null)
    {
        EnsureNotRunning();
        options = (options ?? new ResultsOptions()).Validate();
        var stream = new Results<T>(this, options with { Name = UniqueName(options.Name) });
        lock (_gate)
            _blocks.Add(stream);
        return stream;
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
    public Task<PipelineResult> RunAsync<T>(IAsyncEnumerable<T> source, ITargetBlock<Item<T>> entry, Func<T, string>? key = null, CancellationToken cancellationToken = default) =>
        RunAsync(source, entry, key, Timeout.InfiniteTimeSpan, cancellationToken);

    /// <summary>
    /// As the <see cref="IEnumerable{T}"/> overload, with a time limit for this run: when <paramref name="deadline"/>
    /// passes (or <see cref="NurseryOptions.Deadline"/>, whichever comes first) the run is aborted with
    /// <see cref="AbortCause.Deadline"/>, its children are killed and every item is accounted for. For callers that
    /// wait for the run themselves, such as a script's synchronous run.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="deadline"/> is not positive (nor infinite).</exception>
    public Task<PipelineResult> RunAsync<T>(IEnumerable<T> source, ITargetBlock<Item<T>> entry, TimeSpan deadline, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (deadline <= TimeSpan.Zero && deadline != Timeout.InfiniteTimeSpan)
            throw new ArgumentOutOfRangeException(nameof(deadline), deadline, "The run's deadline must be positive, or Timeout.InfiniteTimeSpan for none.");
        return RunAsync(new SynchronousSource<T>(source), entry, null, deadline, cancellationToken);
    }

    private async Task<PipelineResult> RunAsync<T>(IAsyncEnumerable<T> source, ITargetBlock<Item<T>> entry, Func<T, string>? key, TimeSpan deadline, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(entry);
        if (entry is not INurseryBlock first || first.Scope != this)
            throw new ArgumentException("The entry block must be a stage or sink made by this NurseryScope, so its items are accounted for.", nameof(entry));
        if (Interlocked.CompareExchange(ref _state, 1, 0) != 0)
            throw new InvalidOperationException("A NurseryScope runs once; make a new scope for another run.");

        INurseryBlock[] blocks;
        lock (_gate)
            blocks = [.. _blocks];
        var run = new PipelineRun(this, _abort);
        _run = run;
        var result = await run.RunAsync(blocks, first, source, entry, key, deadline, cancellationToken).ConfigureAwait(false);
        Interlocked.Exchange(ref _state, 2);
        return result;
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
    /// then overlap the blocks' draining instead of following it — else when the run ends or the scope is disposed.
    /// Awaited before RunAsync returns and by DisposeAsync.
    /// </summary>
    internal Task StopBlocksAsync()
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

    internal void Abort(string reason, ChildFailure? failure, AbortCause cause)
    {
        if (_abort.TryAbort(reason, failure, cause))
            _ = StopBlocksAsync();
    }

    /// <summary>The Cancelled failure of an item stopped by the abort, naming its cause.</summary>
    internal ChildFailure AbortedFailure(string stage, string key, int attempt, bool itemStarted) => _abort.AbortedFailure(stage, key, attempt, itemStarted);

    /// <summary>Waits before a retry; false if the run aborted meanwhile.</summary>
    internal Task<bool> DelayAsync(TimeSpan wait) => _abort.DelayAsync(wait);

    /// <summary>Aborts the run if <paramref name="block"/> faults (a user's block, or a defect in ours).</summary>
    internal void Watch(IDataflowBlock block, string what) =>
        _ = block.Completion.ContinueWith(
            completed => AbortForBlock($"{what} faulted", completed.Exception?.GetBaseException() ?? new InvalidOperationException("faulted")),
            CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default
        );

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
}
