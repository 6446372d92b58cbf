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
internal sealed class WorkerCore
{
    private const int MaxItemBytes = 60 << 20;
    private const int MaxBatchBytes = 8 << 20;
    private static int _cgroupWarningGiven;
    private readonly WorkerOptions _options;
    private readonly Wire _wire;
    private readonly ILogger _logger;
    private readonly Channel<Queued> _queue = Channel.CreateUnbounded<Queued>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Lock _gate = new();
    private readonly InFlightBook _book = new();
    private readonly TaskCompletionSource<Either<ChildFailure, Unit>> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly long _startTimestamp = Stopwatch.GetTimestamp();
    private MemoryCgroup? _cgroup;
    private ChildProcess? _process;
    private Timer? _watchdog;
    private Task<Option<ChildFailure>> _completion = Task.FromResult(Option<ChildFailure>.None);
    private ChildFailure? _cause;
    private bool _ended;
    private bool _disposing;
    private bool _helloSeen;
    private bool _isReady;
    private long _lastHeard;
    private long _nextId;
    private long _itemsCompleted;
    private int _processId;

    public WorkerCore(WorkerOptions options, Wire wire)
    {
        _options = options;
        _wire = wire;
        _logger = options.Logger;
        _lastHeard = _startTimestamp;
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
        if (_options.MemoryLimit > 0)
        {
            MemoryCgroup.Create(_options.MemoryLimit).Match(cgroup => _cgroup = cgroup, WarnNoCgroup);
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
        var tick = Watchdog.Period(_options);
        _watchdog = new Timer(_ => Watch(), null, tick, tick);
        _completion = FinishAsync(_process);

        using var registration = cancellationToken.Register(() => Terminate(new ChildFailure.Cancelled("the start was cancelled by the caller", Option<ChildFailure>.None, false)));
        var ready = await _ready.Task.ConfigureAwait(false);
        if (ready.IsLeft)
            await _completion.ConfigureAwait(false);
        return ready;
    }

    /// <summary>Queues an item; it is sent with whatever else is queued when the writer next runs.</summary>
    public bool TryEnqueue(PendingItem item) => _queue.Writer.TryWrite(new Queued(item, null));

    /// <summary>Queues several items as one unit, so the writer sees them together and sends them in as few frames as it can.</summary>
    public bool TryEnqueue(PendingItem[] items) => _queue.Writer.TryWrite(new Queued(null, items));

    /// <summary>What waits for the writer: one item, or the items of a batch.</summary>
    private readonly record struct Queued(PendingItem? One, PendingItem[]? Many);

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
    /// at once and its reply, if one comes, is ignored. Running in the child: the child is killed, since its work
    /// cannot be stopped otherwise.
    /// </summary>
    public void Cancel(PendingItem item)
    {
        bool running;
        lock (_gate)
        {
            running = _book.IsRunning(item.Id);
            if (!running)
                _book.Abandon(item.Id);
        }
        if (running)
            Terminate(new ChildFailure.Cancelled("cancelled by the caller while the child was running it; the child was killed", Option<ChildFailure>.None, true));
        else
            item.TryFail(Stamp(new ChildFailure.Cancelled("cancelled by the caller before the child started it", Option<ChildFailure>.None, false), item));
    }

    /// <summary>Closes the child's stdin so it leaves on its own, then kills it after the grace period. Completes when it is reaped.</summary>
    public async ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            if (!_ended)
                _disposing = true;
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

    private async Task FeedStdinAsync(Stream stdin, CancellationToken cancellationToken)
    {
        // The rest of a batch that did not fit in the last frame.
        PendingItem[]? carried = null;
        var carriedAt = 0;
        try
        {
            if (!await _wire.GreetAsync(stdin, cancellationToken).ConfigureAwait(false))
                return;
            using var buffer = new FrameBuffer(64 * 1024);
            var sending = new List<PendingItem>();
            var reader = _queue.Reader;
            while (carried is not null || await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                buffer.Clear();
                sending.Clear();
                var mark = _wire.BeginBatch(buffer);
                while (sending.Count < _options.MaxBatch && buffer.Length < MaxBatchBytes)
                {
                    PendingItem item;
                    if (carried is not null)
                    {
                        item = carried[carriedAt++];
                        if (carriedAt == carried.Length)
                            carried = null;
                    }
                    else if (!reader.TryRead(out var queued))
                        break;
                    else if (queued.One is not null)
                        item = queued.One;
                    else
                    {
                        (carried, carriedAt) = queued.Many!.Length > 0 ? (queued.Many, 0) : (null, 0);
                        continue;
                    }
                    if (TryEncodeItem(buffer, item))
                        sending.Add(item);
                }
                if (sending.Count == 0 || !Register(sending))
                    continue;
                _wire.EndBatch(buffer, mark, sending.Count);
                await stdin.WriteAsync(buffer.WrittenMemory, cancellationToken).ConfigureAwait(false);
                await stdin.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) { }
        catch (IOException)
        {
            // The child is gone; FinishAsync reports why.
        }
        finally
        {
            if (carried is not null)
                _ = FailWhenEndedAsync(carried[carriedAt..]);
        }
    }

    /// <summary>Items that were never sent, failed (not started) once the worker's end is known, with its cause.</summary>
    private async Task FailWhenEndedAsync(PendingItem[] items)
    {
        await _completion.ConfigureAwait(false);
        ChildFailure? cause;
        lock (_gate)
            cause = _cause;
        foreach (var item in items)
            item.TryFail(NotStarted(item, cause, "not started: its worker ended before sending it"));
    }

    private bool TryEncodeItem(FrameBuffer buffer, PendingItem item)
    {
        if (item.IsCompleted)
            return false;
        var mark = buffer.Length;
        try
        {
            _wire.WriteItem(buffer, item);
            if (buffer.Length - mark > MaxItemBytes)
                throw new InvalidOperationException($"the encoded item is {buffer.Length - mark} bytes, over the {MaxItemBytes}-byte limit of one item; send a path or a reference to large data instead");
            return true;
        }
        catch (Exception exception)
        {
            buffer.Truncate(mark);
            var error = RemoteError.From(exception) with { Message = $"the parent could not encode the item: {exception.Message}" };
            item.TryFail(Stamp(new ChildFailure.Faulted(error), item));
            return false;
        }
    }

    /// <summary>
    /// Records the items of a frame as in flight, under one lock, before the frame is written. If the worker has ended
    /// they fail (not started) and the frame is not sent. An item cancelled since it was encoded is still sent, and
    /// its reply ignored.
    /// </summary>
    private bool Register(List<PendingItem> items)
    {
        var now = Stopwatch.GetTimestamp();
        ChildFailure? cause;
        lock (_gate)
        {
            if (!_ended)
            {
                _book.Register(items, now);
                return true;
            }
            cause = _cause;
        }
        foreach (var item in items)
            item.TryFail(NotStarted(item, cause, "the worker ended before the item was sent"));
        return false;
    }

    private async Task ReadStdoutAsync(Stream stdout, CancellationToken cancellationToken)
    {
        try
        {
            await _wire.ReadAsync(stdout, new Listener(this), cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) { }
        catch (Exception exception)
        {
            Terminate(new ChildFailure.ProtocolViolation($"the parent could not process the child's output: {exception.GetType().Name}: {exception.Message}", []));
        }
        finally
        {
            // Drain whatever else the child writes so it never blocks on a full pipe while it is being killed.
            try
            {
                await stdout.CopyToAsync(Stream.Null, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is IOException or ObjectDisposedException or OperationCanceledException) { }
            _ = ReapAfterEndOfOutputAsync();
        }
    }

    /// <summary>
    /// The channel closed. If the process is not reaped soon, something it started still holds its stderr (a
    /// background process of the body's): kill the process group so the end is observed instead of waited for.
    /// </summary>
    private async Task ReapAfterEndOfOutputAsync()
    {
        ChildProcess? process;
        lock (_gate)
            process = _process;
        if (process is null)
            return;
        if (await Task.WhenAny(process.Exit, Task.Delay(TimeSpan.FromSeconds(1))).ConfigureAwait(false) == process.Exit)
            return;
        process.KillLeftovers();
        if (await Task.WhenAny(process.Exit, Task.Delay(TimeSpan.FromSeconds(2))).ConfigureAwait(false) != process.Exit)
            process.Kill();
    }

    /// <summary>The items of the reply frame being completed (the reader's own: one reader per worker).</summary>
    private PendingItem?[] _frameItems = [];

    /// <summary>
    /// As <see cref="Complete"/> for every reply of a frame of results: the items taken out of the books under one
    /// lock, then completed outside it. A reply for an item the child was not given is a protocol violation (the items
    /// before it are completed first, as they would be one by one).
    /// </summary>
    private bool CompleteAll(List<ReplyEntry> replies)
    {
        if (_frameItems.Length < replies.Count)
            _frameItems = new PendingItem?[Math.Max(replies.Count, _frameItems.Length * 2)];
        var items = _frameItems;
        var taken = 0;
        var completed = 0;
        lock (_gate)
        {
            for (; taken < replies.Count; taken++)
            {
                if (!_book.TryAnswer(replies[taken].Id, out var item, out var abandoned))
                    break;
                // An abandoned item's reply is dropped (as in Complete).
                items[taken] = abandoned ? null : item;
                if (!abandoned)
                    completed++;
            }
            _book.DropAnsweredHead(Volatile.Read(ref _lastHeard));
        }
        Interlocked.Add(ref _itemsCompleted, completed);
        for (var i = 0; i < taken; i++)
        {
            var item = items[i];
            if (item is null)
                continue;
            items[i] = null;
            End(item, replies[i].Payload, null);
        }
        return taken == replies.Count || NotGiven(replies[taken].Id);
    }

    /// <summary>Ends an item the child answered: with its result, or with <paramref name="error"/> when the body threw.</summary>
    private bool Complete(long id, in ReadOnlySequence<byte> payload, RemoteError? error)
    {
        bool given;
        PendingItem? item;
        bool abandoned;
        lock (_gate)
        {
            given = _book.TryAnswer(id, out item, out abandoned);
            if (given)
                _book.DropAnsweredHead(Volatile.Read(ref _lastHeard));
        }
        if (!given || item is null)
            return NotGiven(id);
        if (abandoned)
            return true;
        Interlocked.Increment(ref _itemsCompleted);
        End(item, payload, error);
        return true;
    }

    /// <summary>Ends an answered item: its result, a failure to decode it, or the body's exception.</summary>
    private void End(PendingItem item, in ReadOnlySequence<byte> payload, RemoteError? error)
    {
        item.Registration.Unregister();
        if (error is { Type: Batch.ResultTooLargeType })
        {
            // The child refused to send a result over WorkerOptions.MaxResultBytes and serves on: that item alone fails.
            item.TryFail(Stamp(new ChildFailure.ProtocolViolation($"the result of item {item.Key} was too large: {error.Message}", []), item));
            return;
        }
        if (error is not null)
        {
            item.TryFail(Stamp(new ChildFailure.Faulted(error), item));
            return;
        }
        var failure = item.TryCompleteWithResult(payload);
        if (failure.IsSome)
            item.TryFail(Stamp(failure.IfNone(() => throw new UnreachableException()), item));
    }

    /// <summary>A reply for an item the child was not given: a protocol violation that ends the child. False.</summary>
    private bool NotGiven(long id)
    {
        Terminate(new ChildFailure.ProtocolViolation($"the child replied to item id {id}, which it was not given", []));
        return false;
    }

    /// <summary>Turns what the wire reads into the worker's state changes.</summary>
    private sealed class Listener(WorkerCore core) : IWireListener
    {
        public void Heard() => Volatile.Write(ref core._lastHeard, Stopwatch.GetTimestamp());

        public bool Hello(int processId)
        {
            lock (core._gate)
                core._helloSeen = true;
            if (processId > 0)
                Interlocked.Exchange(ref core._processId, processId);
            if (core._cgroup is not null && !core._wire.PlacesItselfInCgroup)
            {
                core._cgroup.Add(core.ProcessId).IfLeft(reason =>
                {
                    core.WarnNoCgroup(reason);
                    _ = core._cgroup.RemoveAsync();
                    core._cgroup = null;
                });
            }
            return true;
        }

        public void Ready()
        {
            core._wire.Started();
            lock (core._gate)
                core._isReady = true;
            core._ready.TrySetResult(Prelude.Right<ChildFailure, Unit>(Unit.Default));
        }

        public void Failed(string phase, RemoteError error) =>
            core.Terminate(core._isReady ? new ChildFailure.Faulted(error) : new ChildFailure.StartFailed($"the child failed to {phase}: {error.Type}: {error.Message}", error));

        public bool Result(long id, in ReadOnlySequence<byte> payload) => core.Complete(id, payload, null);

        public bool Results(List<ReplyEntry> replies) => core.CompleteAll(replies);

        public bool Error(long id, RemoteError error) => core.Complete(id, ReadOnlySequence<byte>.Empty, error);

        public void Log(int level, string text)
        {
            var logLevel = (LogLevel)Math.Clamp(level, 0, 6);
            Supervision.Log.ChildLog(core._logger, logLevel, core._options.StageName, core.ProcessId, text);
        }

        public void Violation(string detail, byte[] bytesSeen) => core.Terminate(new ChildFailure.ProtocolViolation(detail, bytesSeen));

        public void Incompatible(string reason) => core.Terminate(new ChildFailure.StartFailed(reason));
    }

    private void OnStderrLine(string line) => Log.ChildStderr(_logger, _options.StageName, ProcessId, line);

    private void Watch()
    {
        var now = Stopwatch.GetTimestamp();
        ChildFailure? expired;
        lock (_gate)
        {
            if (_ended)
                return;
            long? runningSince = null;
            if (Watchdog.WatchesItems(_options) && _book.Count > 0)
            {
                var (id, since) = _wire.Running();
                runningSince = _book.RunningSince(id, since);
            }
            expired = Watchdog.Expired(_options, now, _startTimestamp, _isReady, _helloSeen, Volatile.Read(ref _lastHeard), runningSince);
        }
        if (expired is not null)
            Terminate(expired);
    }

    /// <summary>After the child is reaped: decide why it ended, complete every item it held, clean up.</summary>
    private async Task<Option<ChildFailure>> FinishAsync(ChildProcess process)
    {
        var exit = await process.Exit.ConfigureAwait(false);
        if (_watchdog is not null)
            await _watchdog.DisposeAsync().ConfigureAwait(false);

        ChildFailure? cause;
        bool disposing;
        PendingItem[] inFlight;
        lock (_gate)
        {
            _ended = true;
            disposing = _disposing;
            inFlight = _book.TakeAll();
            var memory = disposing || _cause is not null || _cgroup is null ? (MemoryFacts?)null : ReadMemoryFacts(_cgroup);
            cause = EndClassifier.Classify(exit, memory, _cause, disposing, _isReady, inFlight.Length);
            _cause ??= cause;
        }
        _queue.Writer.TryComplete();
        _wire.Abandon();

        // The item that was running: the one the child's progress slot names, else the oldest unanswered one. Items
        // before it finished, but their replies were still in the child's batch: they go back as not started.
        var (runningId, _) = _wire.Running();
        var blamed = runningId == 0 ? 0 : Math.Max(0, Array.FindIndex(inFlight, item => item.Id == runningId));
        var head = inFlight.Length > 0 ? inFlight[blamed] : null;
        var stampedCause = Stamp(cause, head);
        lock (_gate)
            _cause = stampedCause;
        if (head is not null)
            head.TryFail(stampedCause);
        for (var i = 0; i < inFlight.Length; i++)
        {
            if (i < blamed)
                inFlight[i].TryFail(NotStarted(inFlight[i], stampedCause, $"its result was lost: its worker (pid {ProcessId}) ended, while running item {head!.Key}, before sending it; it may run again"));
            else if (i > blamed)
                inFlight[i].TryFail(NotStarted(inFlight[i], stampedCause, $"not started: its worker (pid {ProcessId}) ended while item {head!.Key} was running"));
        }
        while (_queue.Reader.TryRead(out var queued))
        {
            foreach (var item in queued.Many ?? [queued.One!])
                item.TryFail(NotStarted(item, stampedCause, "not started: its worker ended before sending it"));
        }

        _ready.TrySetResult(Prelude.Left<ChildFailure, Unit>(stampedCause));
        if (_cgroup is not null)
            await _cgroup.RemoveAsync().ConfigureAwait(false);
        MarkEnded();
        return disposing ? Option<ChildFailure>.None : stampedCause;
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
            Stage = _options.StageName,
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
