using System.Buffers;
using System.Diagnostics;
using LanguageExt;
using Microsoft.Extensions.Logging;
using Nursery.Launch;
using Nursery.Protocol;

namespace Nursery.Supervision;

/// <summary>The reading side: what the child writes, matched to the items it was given and completed outside the lock.</summary>
internal sealed partial class WorkerCore
{
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
            await EndAtEndOfOutputAsync().ConfigureAwait(false);
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
        PendingItem? stoppedAbandoned = null;
        lock (_gate)
        {
            for (; taken < replies.Count; taken++)
            {
                if (!_book.TryAnswer(replies[taken].Id, out var item, out var abandoned))
                    break;
                // An abandoned item's reply is dropped (as in Complete), but it still ends a stop asked for it.
                items[taken] = abandoned ? null : item;
                if (!abandoned)
                    completed++;
                else if (ReferenceEquals(_stopping, item))
                    stoppedAbandoned = item;
            }
            _book.DropAnsweredHead(Volatile.Read(ref _lastHeard));
        }
        if (stoppedAbandoned is not null)
            _ = TakeStopped(stoppedAbandoned);
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
        {
            // Dropped, but the child has answered: a stop asked for the item is over (whoever waits for it goes on).
            _ = TakeStopped(item);
            return true;
        }
        Interlocked.Increment(ref _itemsCompleted);
        End(item, payload, error);
        return true;
    }

    /// <summary>Ends an answered item: its result, a failure to decode it, or the body's exception.</summary>
    private void End(PendingItem item, in ReadOnlySequence<byte> payload, RemoteError? error)
    {
        item.Unregister();
        if (_stopping is not null && TakeStopped(item) is { } stopped)
        {
            // The child was asked to stop this item and answered: it ends as asked, and the child serves on.
            item.TryFail(Stamp(stopped, item));
            return;
        }
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
            Supervision.Log.ChildLog(core._logger, logLevel, core._options.NameOrDefault, core.ProcessId, text);
        }

        public void Spans(IReadOnlyList<ChildSpan> spans) => Telemetry.ChildSpans.Replay(spans, core.ProcessId);

        public void Violation(string detail, byte[] bytesSeen) => core.Terminate(new ChildFailure.ProtocolViolation(detail, bytesSeen));

        public void Incompatible(string reason) => core.Terminate(new ChildFailure.StartFailed(reason));
    }
}
