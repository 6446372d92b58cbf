using LanguageExt;

namespace Nursery;

/// <summary>
/// Whether and why a scope's run has aborted: the first abort wins, its reason, cause and failure are kept, and the
/// token given to the blocks and the source is cancelled. It lives as long as the scope, since a block can abort the
/// run (a linked block faulting, the scope disposed) before <c>RunAsync</c> starts it. It also knows whether the blocks
/// have started, so that exactly one of the abort and the start sees the other and the blocks are stopped.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The token is handed to blocks, sources and the user for as long as they hold it; the source has no timer, so nothing is held when it is not disposed.")]
internal sealed class AbortState
{
    private readonly CancellationTokenSource _abort = new();
    private readonly Lock _gate = new();
    private readonly TaskCompletionSource _aborted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _blocksStarted;
    private string _reason = "";
    private AbortCause _cause;
    private ChildFailure? _failure;
    private volatile bool _aborting;

    /// <summary>Cancelled when the run aborts.</summary>
    public CancellationToken Token => _abort.Token;

    /// <summary>Whether the run has aborted.</summary>
    public bool IsAborted => _aborting;

    /// <summary>Completes when the run aborts.</summary>
    public Task Aborted => _aborted.Task;

    /// <summary>Why the run aborted, and what; an empty reason and <see cref="AbortCause.None"/> when it has not.</summary>
    public (string Reason, AbortCause Cause) Outcome
    {
        get
        {
            lock (_gate)
                return (_reason, _cause);
        }
    }

    /// <summary>The failure that aborted the run, when one did.</summary>
    public Option<ChildFailure> Failure
    {
        get
        {
            lock (_gate)
                return _failure is null ? Option<ChildFailure>.None : _failure;
        }
    }

    /// <summary>
    /// Aborts the run unless it has aborted already; true when this call aborted it after the blocks started (the
    /// caller then stops them).
    /// </summary>
    public bool TryAbort(string reason, ChildFailure? failure, AbortCause cause)
    {
        bool blocksStarted;
        lock (_gate)
        {
            if (_reason.Length > 0)
                return false;
            _reason = reason;
            _failure = failure;
            _cause = cause;
            blocksStarted = _blocksStarted;
            _aborting = true;
        }
        _aborted.TrySetResult();
        _ = Task.Run(_abort.Cancel);
        return blocksStarted;
    }

    /// <summary>Marks the blocks started; true when the run had aborted before (the caller then stops them).</summary>
    public bool BlocksStarted()
    {
        lock (_gate)
        {
            _blocksStarted = true;
            return _reason.Length > 0;
        }
    }

    /// <summary>The Cancelled failure of an item stopped by the abort, naming its cause.</summary>
    public ChildFailure AbortedFailure(string stage, string key, int attempt, bool itemStarted)
    {
        string reason;
        ChildFailure? cause;
        lock (_gate)
        {
            reason = _reason;
            cause = _failure;
        }
        // With a cause the summary names it ("because of ..."); without one (deadline, caller, disposal) the reason says why.
        var text = cause is null ? $"the run was aborted ({reason})" : "the run was aborted";
        return new ChildFailure.Cancelled(text, cause is null ? Option<ChildFailure>.None : cause, itemStarted) { Stage = stage, Key = key, Attempt = attempt };
    }

    /// <summary>Waits before a retry; false if the run aborted meanwhile.</summary>
    public async Task<bool> DelayAsync(TimeSpan wait)
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
}
