using System.Buffers;
using System.Diagnostics;
using System.Threading.Channels;
using LanguageExt;
using Microsoft.Extensions.Logging;
using Nursery.Launch;
using Nursery.Protocol;

namespace Nursery.Supervision;

/// <summary>
/// One supervised child process speaking the frame protocol: starts it, sends batches of items, matches replies,
/// watches heartbeats and deadlines, and when the child ends for any reason classifies why and completes every
/// item it held exactly once. Untyped: <see cref="Worker{TIn,TOut}"/> adds the item types.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The watchdog timer is disposed in FinishAsync, when the child is reaped.")]
internal sealed partial class WorkerCore
{
    private static int _cgroupWarningGiven;
    private readonly WorkerOptions _options;
    private readonly Wire _wire;
    private readonly ILogger _logger;
    private readonly Channel<Queued> _queue = Channel.CreateUnbounded<Queued>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Lock _gate = new();
    private readonly InFlightBook _book = new();
    private readonly TaskCompletionSource<Either<ChildFailure, Unit>> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly long _startTimestamp = Stopwatch.GetTimestamp();
    private readonly Telemetry.WorkerTelemetry _telemetry;
    private MemoryCgroup? _cgroup;
    private ChildProcess? _process;
    private Timer? _watchdog;
    private Task<Option<ChildFailure>> _completion = Task.FromResult(Option<ChildFailure>.None);
    private ChildFailure? _cause;
    private bool _ended;
    private bool _disposing;
    private bool _endedDisposing;
    private int _endHandled;

    /// <summary>Completes once the child's end has been handled (<see cref="HandleEnd"/>): every item it held is complete.</summary>
    private readonly TaskCompletionSource _endSeen = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _helloSeen;
    private bool _isReady;
    private long _lastHeard;
    private long _nextId;
    private long _itemsCompleted;
    private int _processId;

    // The item the child was asked to stop (a body that takes a token): the failure it ends with if it stops, the one
    // its child is killed with if it has not within the kill grace, since when it was asked, and who waits for it.
    private readonly System.Collections.Concurrent.ConcurrentQueue<long> _stopRequests = new();
    private PendingItem? _stopping;
    private ChildFailure? _stopFailure;
    private ChildFailure? _killFailure;
    private long _stopAskedAt;
    private TaskCompletionSource? _stopped;

    public WorkerCore(WorkerOptions options, Wire wire)
    {
        _options = options;
        _wire = wire;
        _logger = options.Logger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
        _lastHeard = _startTimestamp;
        _telemetry = new Telemetry.WorkerTelemetry(Telemetry.Instruments.For(options.MeterFactory), options.NameOrDefault);
    }

    public int ProcessId => Volatile.Read(ref _processId);

    public Task<Option<ChildFailure>> Completion => _completion;

    public bool IsAlive
    {
        get
        {
            lock (_gate)
                return _isReady && !_ended;
        }
    }

    public long ItemsCompleted => Interlocked.Read(ref _itemsCompleted);

    public long NextId() => Interlocked.Increment(ref _nextId);

    /// <summary>Reserves <paramref name="count"/> consecutive item ids; returns the first.</summary>
    public long NextIds(int count) => Interlocked.Add(ref _nextId, count) - count + 1;

    /// <summary>Starts the child and waits until it is ready or has failed; on failure the child is already reaped.</summary>
    public async Task<Either<ChildFailure, Unit>> StartAsync(CancellationToken cancellationToken)
    {
        var unstartable = _wire.Preflight();
        if (unstartable.IsSome)
        {
            MarkEnded();
            return Prelude.Left<ChildFailure, Unit>(Stamp(new ChildFailure.StartFailed(unstartable.IfNone("")), null));
        }
        if (_options.MemoryLimit is { } memoryLimit)
        {
            MemoryCgroup.Create(memoryLimit).Match(cgroup => _cgroup = cgroup, WarnNoCgroup);
        }

        var environment = new Dictionary<string, string>(_options.Environment)
        {
            ["NURSERY_PARENT_PID"] = Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
            ["DOTNET_NOLOGO"] = "1",
        };
        var spec = _wire.Launch(environment, _cgroup);
        var started = await ChildProcess.StartAsync(spec, FeedStdinAsync, ReadStdoutAsync, OnStderrLine, _logger).ConfigureAwait(false);
        if (started.IsLeft)
        {
            var reason = started.Match(_ => "", left => left);
            _telemetry.ChildStarted(Stopwatch.GetElapsedTime(_startTimestamp), ready: false);
            MarkEnded();
            if (_cgroup is not null)
                await _cgroup.RemoveAsync().ConfigureAwait(false);
            return Prelude.Left<ChildFailure, Unit>(Stamp(new ChildFailure.StartFailed(reason), null));
        }
        bool terminatedDuringStart;
        lock (_gate)
        {
            _process = started.Match(process => process, _ => throw new UnreachableException());
            terminatedDuringStart = _cause is not null;
        }
        // The child may have broken the protocol before StartAsync returned; Terminate could not kill it then.
        if (terminatedDuringStart)
            _process.Kill();
        Interlocked.CompareExchange(ref _processId, _process.ProcessId, 0);
        _telemetry.ChildSpawned();
        var tick = Watchdog.Period(_options);
        _watchdog = new Timer(_ => Watch(), null, tick, tick);
        _completion = FinishAsync(_process);

        using var registration = cancellationToken.Register(() => Terminate(new ChildFailure.Cancelled("the start was cancelled by the caller", Option<ChildFailure>.None, false)));
        var ready = await _ready.Task.ConfigureAwait(false);
        _telemetry.ChildStarted(Stopwatch.GetElapsedTime(_startTimestamp), ready.IsRight);
        if (ready.IsLeft)
            await _completion.ConfigureAwait(false);
        return ready;
    }

    /// <summary>Queues an item; it is sent with whatever else is queued when the writer next runs.</summary>
    public bool TryEnqueue(PendingItem item)
    {
        _telemetry.Queued(item);
        return _queue.Writer.TryWrite(new Queued(item, null));
    }

    /// <summary>Queues several items as one unit, so the writer sees them together and sends them in as few frames as it can.</summary>
    public bool TryEnqueue(PendingItem[] items)
    {
        foreach (var item in items)
            _telemetry.Queued(item);
        return _queue.Writer.TryWrite(new Queued(null, items));
    }


    /// <summary>Why the worker cannot take items, once it has ended.</summary>
    public ChildFailure EndedFailure(PendingItem item)
    {
        ChildFailure? cause;
        lock (_gate)
            cause = _cause;
        return NotStarted(item, cause, "the worker has ended");
    }

    /// <summary>
    /// Cancels one item. Still queued, or waiting in the child behind another item: it completes Cancelled (not started)
    /// at once and its reply, if one comes, is ignored (a child whose body takes a token is also told not to start it).
    /// Running in the child (for a body that takes a token, also the item an idle child runs next, see
    /// <see cref="InFlightBook.ToStop"/>): a body that takes a token is asked to stop (<see cref="StopRunning"/>); any
    /// other child is killed, since its work cannot be stopped otherwise.
    /// </summary>
    public void Cancel(PendingItem item)
    {
        bool running;
        var held = false;
        lock (_gate)
        {
            running = _wire.StopsItems ? !_ended && ReferenceEquals(_book.ToStop(_wire.Progress()), item) : _book.IsRunning(item.Id);
            if (!running)
                held = _book.Abandon(item.Id);
        }
        if (running)
        {
            StopRunning(
                item,
                new ChildFailure.Cancelled("cancelled by the caller while the child was running it; its body stopped when asked to, and the child lives on", Option<ChildFailure>.None, true),
                new ChildFailure.Cancelled("cancelled by the caller while the child was running it; the child was killed", Option<ChildFailure>.None, true)
            );
            return;
        }
        if (held && _wire.StopsItems)
            AskToStop(item.Id);
        item.TryFail(Stamp(new ChildFailure.Cancelled("cancelled by the caller before the child started it", Option<ChildFailure>.None, false), item));
    }

    /// <summary>
    /// Stops the item the child is running. A body that takes a token (and a kill grace above zero): the child is asked
    /// to stop it (a Stop frame; the token is cancelled there); the item ends with <paramref name="stopped"/> when the
    /// child answers it, and the child is killed with <paramref name="killed"/> if it has not answered within
    /// <see cref="WorkerOptions.KillGrace"/> (the watchdog's check). Otherwise the child is killed at once. One item is
    /// stopped at a time; a second request while one is under way waits for that one's outcome.
    /// </summary>
    private void StopRunning(PendingItem item, ChildFailure stopped, ChildFailure killed)
    {
        if (!_wire.StopsItems || _options.KillGrace <= TimeSpan.Zero)
        {
            Terminate(killed);
            return;
        }
        lock (_gate)
        {
            if (_ended || _stopping is not null)
                return;
            _stopping = item;
            _stopFailure = stopped;
            _killFailure = killed;
            _stopAskedAt = Stopwatch.GetTimestamp();
            _stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        if (!AskToStop(item.Id))
            Terminate(killed);
    }

    /// <summary>Queues a Stop frame for <paramref name="id"/> and wakes the writer; false when the writer has ended.</summary>
    private bool AskToStop(long id)
    {
        _stopRequests.Enqueue(id);
        return _queue.Writer.TryWrite(default);
    }

    /// <summary>
    /// The failure of an answered item the child was asked to stop (it ends with that, whatever the reply), or null
    /// when it is not that item.
    /// </summary>
    private ChildFailure? TakeStopped(PendingItem item)
    {
        if (!ReferenceEquals(Volatile.Read(ref _stopping), item))
            return null;
        ChildFailure? failure;
        TaskCompletionSource? waiting;
        lock (_gate)
        {
            if (!ReferenceEquals(_stopping, item))
                return null;
            failure = _stopFailure;
            waiting = _stopped;
            _stopping = null;
            _stopFailure = _killFailure = null;
        }
        waiting?.TrySetResult();
        return failure;
    }

    /// <summary>Closes the child's stdin so it leaves on its own, then kills it after the grace period. Completes when it is reaped.</summary>
    public async ValueTask DisposeAsync()
    {
        PendingItem? running = null;
        lock (_gate)
        {
            if (!_ended)
            {
                _disposing = true;
                if (_wire.StopsItems && _options.KillGrace > TimeSpan.Zero)
                    running = _book.ToStop(_wire.Progress());
            }
        }
        if (running is not null)
        {
            // A body that takes a token is asked to stop first, and stdin stays open meanwhile (the host leaves at
            // stdin EOF, even in the middle of an item); the watchdog kills the child if the grace passes.
            StopRunning(
                running,
                new ChildFailure.Cancelled("the worker was disposed while the child was running the item; its body stopped when asked to", Option<ChildFailure>.None, true),
                new ChildFailure.Cancelled("the worker was disposed while the child was running the item; its body did not stop within the kill grace, so the child was killed", Option<ChildFailure>.None, true)
            );
            Task? stopped;
            lock (_gate)
                stopped = _stopped?.Task;
            if (stopped is not null)
                await Task.WhenAny(stopped, _completion, Task.Delay(_options.KillGrace + Watchdog.Period(_options))).ConfigureAwait(false);
        }
        _queue.Writer.TryComplete();
        var completion = _completion;
        if (_options.KillGrace > TimeSpan.Zero)
        {
            try
            {
                await completion.WaitAsync(_options.KillGrace).ConfigureAwait(false);
                return;
            }
            catch (TimeoutException) { }
        }
        Terminate(new ChildFailure.Cancelled("the worker was disposed", Option<ChildFailure>.None, true));
        await completion.ConfigureAwait(false);
    }

    /// <summary>Records the first reason the child must end and kills it. Later reasons are ignored.</summary>
    private void Terminate(ChildFailure cause)
    {
        ChildProcess? process;
        lock (_gate)
        {
            if (_cause is not null || (_ended && _process is null))
                return;
            _cause = Stamp(cause, null);
            _ended = true;
            process = _process;
        }
        _queue.Writer.TryComplete();
        _wire.Abandon();
        process?.Kill();
    }

    private void OnStderrLine(string line) => Log.ChildStderr(_logger, _options.NameOrDefault, ProcessId, line);

    private void Watch()
    {
        var now = Stopwatch.GetTimestamp();
        ChildFailure? expired;
        ChildFailure? graceOver = null;
        PendingItem? overdue = null;
        lock (_gate)
        {
            if (_ended)
                return;
            if (_stopping is not null && Stopwatch.GetElapsedTime(_stopAskedAt, now) > _options.KillGrace)
                graceOver = _killFailure;
            long? runningSince = null;
            var progress = default(ChildProgress);
            if (Watchdog.WatchesItems(_options) && _book.Count > 0)
            {
                progress = _wire.Progress();
                runningSince = _book.RunningSince(progress);
            }
            expired = Watchdog.Expired(_options, now, _startTimestamp, _isReady, _helloSeen, Volatile.Read(ref _lastHeard), runningSince);
            // An item past its deadline is asked to stop first when its body takes a token; a silent child cannot be asked.
            if (expired is ChildFailure.TimedOut { Limit: TimeoutKind.ItemDeadline } && _wire.StopsItems && _options.KillGrace > TimeSpan.Zero)
                overdue = _book.ToStop(progress);
        }
        if (graceOver is not null)
            Terminate(graceOver);
        else if (overdue is not null && expired is ChildFailure.TimedOut timedOut)
            StopRunning(overdue, timedOut with { ChildKilled = false }, timedOut);
        else if (expired is not null)
            Terminate(expired);
    }

    /// <summary>
    /// After the child is reaped: its end, unless <see cref="EndAtEndOfOutputAsync"/> handled it already (see
    /// <see cref="HandleEnd"/>), then the clean-up.
    /// </summary>
    private async Task<Option<ChildFailure>> FinishAsync(ChildProcess process)
    {
        var exit = await process.Exit.ConfigureAwait(false);
        _telemetry.ChildReaped();
        if (_watchdog is not null)
            await _watchdog.DisposeAsync().ConfigureAwait(false);
        HandleEnd(exit);
        if (_cgroup is not null)
            await _cgroup.RemoveAsync().ConfigureAwait(false);
        MarkEnded();
        lock (_gate)
            return _endedDisposing ? Option<ChildFailure>.None : _cause!;
    }

    /// <summary>
    /// The child's output has ended. Once it has also exited, nothing it held can be answered or started any more: its
    /// end is handled now, with the exit status the kernel keeps for it until it is reaped, instead of once CliWrap
    /// reports the exit (after the runtime's exit notification, the pipes and its own clean-up). Its stderr is read to
    /// the end first, for the failure's tail. A child the runtime has reaped already, one that closed its stdout and
    /// lives on, and a remote child are left to <see cref="FinishAsync"/>.
    /// </summary>
    private async Task EndAtEndOfOutputAsync()
    {
        ChildProcess? process;
        lock (_gate)
            process = _process;
        if (process is null)
            return;
        // Read at once: the runtime reaps the child as soon as it hears of its exit, and the status is then out of reach
        // until CliWrap reports it. The output ends a moment before the exit is complete, so a few reads may be needed.
        var exit = process.ExitIfEnded(out var reaped);
        for (var read = 0; exit is null && !reaped && read < 20 && !process.HasExited; read++)
            exit = process.ExitIfEnded(out reaped);
        await Task.WhenAny(process.StderrEnded, process.Exit).ConfigureAwait(false);
        if (exit is not null)
            HandleEnd(exit);
    }

    /// <summary>
    /// Decides why the child ended and completes every item it held, once: the item it was running with that failure,
    /// the others as not started (so a pool sends them to another child). Called when the child has exited and its
    /// output has ended, so no reply can come any more and its progress slot names the last item it started.
    /// </summary>
    private void HandleEnd(ChildExit exit)
    {
        if (Interlocked.Exchange(ref _endHandled, 1) != 0)
            return;
        ChildFailure? cause;
        bool disposing;
        PendingItem[] inFlight;
        lock (_gate)
        {
            _ended = true;
            disposing = _endedDisposing = _disposing;
            inFlight = _book.TakeAll();
            var memory = disposing || _cause is not null || _cgroup is null ? (MemoryFacts?)null : ReadMemoryFacts(_cgroup);
            cause = EndClassifier.Classify(exit, memory, _cause, disposing, _isReady, inFlight.Length);
            _cause ??= cause;
        }
        _queue.Writer.TryComplete();
        _wire.Abandon();

        // What the child's progress slot says (without one, the oldest unanswered item was running): items it finished
        // had their replies still in its batch and go back as not started, like the items it never began; only the
        // item it had begun and not finished gets the failure.
        var (finished, running) = InFlightBook.Fates(inFlight, _wire.Progress());
        var head = running >= 0 ? inFlight[running] : null;
        var stampedCause = Stamp(cause, head);
        lock (_gate)
            _cause = stampedCause;
        if (head is not null)
            head.TryFail(stampedCause);
        var during = head is null ? "between items" : $"while running item {head.Key}";
        for (var i = 0; i < inFlight.Length; i++)
        {
            if (i < finished)
                inFlight[i].TryFail(NotStarted(inFlight[i], stampedCause, $"its result was lost: its worker (pid {ProcessId}) ran it to the end but ended, {during}, before sending its result; it may run again"));
            else if (i != running)
                inFlight[i].TryFail(NotStarted(inFlight[i], stampedCause, $"not started: its worker (pid {ProcessId}) ended {during}"));
        }
        // A queue entry with neither an item nor a batch is a wake-up for stop requests.
        while (_queue.Reader.TryRead(out var queued))
        {
            foreach (var item in queued.Many ?? (queued.One is null ? [] : [queued.One]))
                item.TryFail(NotStarted(item, stampedCause, "not started: its worker ended before sending it"));
        }

        _ready.TrySetResult(Prelude.Left<ChildFailure, Unit>(stampedCause));
        TaskCompletionSource? stopWaiter;
        lock (_gate)
        {
            stopWaiter = _stopped;
            _stopping = null;
        }
        stopWaiter?.TrySetResult();
        _endSeen.TrySetResult();
    }

    /// <summary>The cgroup's facts; the peak is read only after an OOM kill, the only case that reports it.</summary>
    private static MemoryFacts ReadMemoryFacts(MemoryCgroup cgroup)
    {
        var oomKills = cgroup.OomKills();
        return new MemoryFacts(cgroup.LimitBytes, oomKills, oomKills > 0 ? cgroup.PeakBytes() : Option<long>.None);
    }

    private ChildFailure NotStarted(PendingItem item, ChildFailure? cause, string reason) =>
        Stamp(new ChildFailure.Cancelled(reason, cause is null ? Option<ChildFailure>.None : cause, false), item);

    /// <summary>Fills in the context every failure carries: stage, item, attempt, pid, time and stderr.</summary>
    private ChildFailure Stamp(ChildFailure failure, PendingItem? item)
    {
        var now = Stopwatch.GetTimestamp();
        var since = item is { SentTimestamp: > 0 } ? item.SentTimestamp : _startTimestamp;
        return failure with
        {
            Stage = _options.NameOrDefault,
            Key = item?.Key ?? "",
            Attempt = item?.Attempt ?? 1,
            ProcessId = ProcessId,
            Elapsed = Stopwatch.GetElapsedTime(since, now),
            StderrTail = _process?.Stderr.Snapshot() ?? [],
        };
    }

    private void MarkEnded()
    {
        lock (_gate)
            _ended = true;
        _queue.Writer.TryComplete();
        _wire.Release();
    }

    private void WarnNoCgroup(string reason)
    {
        if (Interlocked.Exchange(ref _cgroupWarningGiven, 1) == 0)
        {
            Log.NoMemoryCgroup(_logger, reason);
        }
    }
}
