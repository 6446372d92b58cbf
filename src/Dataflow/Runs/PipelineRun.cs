using System.Threading.Tasks.Dataflow;
using LanguageExt;

namespace Nursery;

/// <summary>
/// One run of a scope's pipeline: it opens the books (the job log, what a resumed run skips), watches the caller's
/// token and the deadline, reports progress, starts the blocks, feeds the source into the entry, waits for the end
/// (after an abort, no longer than the drain timeout), and returns the result once every block's children are reaped.
/// The abort state is the scope's (<see cref="AbortState"/>), since the run can be aborted before it starts.
/// </summary>
internal sealed class PipelineRun(NurseryScope scope, AbortState abort)
{
    private NurseryOptions Options => scope.Options;

    /// <summary>The run's spans; null when nobody listens to the Nursery activity source.</summary>
    public RunTracing? Tracing { get; private set; }

    /// <summary>The run's books; null until the job log is open.</summary>
    public Ledger? Ledger { get; private set; }

    /// <summary>
    /// Runs <paramref name="blocks"/> (whose entry is <paramref name="first"/>), fed from <paramref name="source"/>; the
    /// earlier of <paramref name="deadline"/> and the options' deadline aborts it.
    /// </summary>
    /// <exception cref="InvalidDataException"><see cref="NurseryOptions.JobLog"/> is not a job log of this format and version.</exception>
    public async Task<PipelineResult> RunAsync<T>(INurseryBlock[] blocks, INurseryBlock first, IAsyncEnumerable<T> source, ITargetBlock<Item<T>> entry, Func<T, string>? key, TimeSpan deadline, CancellationToken cancellationToken)
    {
        var tracing = RunTracing.Start(blocks);
        Tracing = tracing;
        var settled = new List<string>();
        IReadOnlySet<string> resumed = Options is { Resume: true, JobLog: { } resumedLog } ? ResumedKeys(resumedLog, settled) : new System.Collections.Generic.HashSet<string>();
        var jobLog = Options.JobLog is { } path ? JobLog.Open(path, Options.SyncJobLog, Options.Logger) : null;
        jobLog?.Settled(settled);
        var ledger = new Ledger(Options, jobLog);
        Ledger = ledger;
        using var callerRegistration = cancellationToken.Register(() => scope.Abort("the caller cancelled the run", null, AbortCause.Caller));
        var limit = Options.Deadline == Timeout.InfiniteTimeSpan || (deadline != Timeout.InfiniteTimeSpan && deadline < Options.Deadline) ? deadline : Options.Deadline;
        using var deadlineTimer = limit == Timeout.InfiniteTimeSpan ? null : new CancellationTokenSource(limit);
        using var deadlineRegistration = deadlineTimer?.Token.Register(() => scope.Abort($"the run's deadline of {Units.Duration(limit)} passed", null, AbortCause.Deadline));
        using var progress = Options.Progress is { } observer ? new Timer(_ => observer.Report(ledger.Progress()), null, Options.ProgressInterval, Options.ProgressInterval) : null;

        WireCompletion(blocks, first);
        var starts = blocks.Select(block => StartQuietlyAsync(block)).ToArray();
        if (abort.BlocksStarted())
            _ = scope.StopBlocksAsync();

        // After an abort the run waits up to the drain timeout for what is still going: the source's read, the blocks.
        var drainedAfterAbort = abort.Aborted.ContinueWith(_ => Task.Delay(Options.DrainTimeout), TaskScheduler.Default).Unwrap();
        var feed = new FeedState();
        await WaitForFeedAsync(SourceFeed.FeedAsync(scope, ledger, source, entry, key, resumed, feed), feed, ledger, drainedAfterAbort).ConfigureAwait(false);
        first.Complete();
        await WaitForEndAsync(blocks, ledger, drainedAfterAbort).ConfigureAwait(false);

        foreach (var block in blocks)
            block.Complete();
        await scope.StopBlocksAsync().ConfigureAwait(false);
        await Task.WhenAll(starts).ConfigureAwait(false);
        if (jobLog is not null)
            await jobLog.DisposeAsync().ConfigureAwait(false);
        Options.Progress?.Report(ledger.Progress());
        var (reason, cause) = abort.Outcome;
        var result = ledger.Result(completed: reason.Length == 0, reason, cause);
        tracing?.End(result);
        return result;
    }

    /// <summary>
    /// The keys a resumed run skips: those the job log records as succeeded, and those in doubt the user says the sink
    /// has (also put in <paramref name="settled"/>, for their end lines), from <paramref name="jobLog"/>.
    /// </summary>
    private System.Collections.Generic.HashSet<string> ResumedKeys(string jobLog, List<string> settled)
    {
        var skipped = new System.Collections.Generic.HashSet<string>(StringComparer.Ordinal);
        var inDoubt = 0;
        foreach (var (key, state) in JobLog.Read(jobLog))
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
            JobLog.LogInDoubt(Options.Logger, jobLog, inDoubt, Options.ResumeInDoubt is null ? "they run again (set NurseryOptions.ResumeInDoubt to ask the sink which it has)" : "NurseryOptions.ResumeInDoubt decided which to skip");
        return skipped;
    }

    /// <summary>
    /// Waits for the feed. Once the drain timeout after an abort has passed, a feed seen in the same read of the source
    /// (a read that ignores the token it was given, or a <c>MoveNext</c> that blocks) is left behind, so that RunAsync
    /// returns: what the feed holds is counted Cancelled and the source counts as done.
    /// </summary>
    internal async Task WaitForFeedAsync(Task feeding, FeedState state, Ledger ledger, Task drainedAfterAbort)
    {
        await Task.WhenAny(feeding, drainedAfterAbort).ConfigureAwait(false);
        while (!feeding.IsCompleted)
        {
            var read = state.CurrentRead;
            // Long enough for the feed's last writes to be seen here, and for a read that returns meanwhile to be seen to.
            await Task.WhenAny(feeding, Task.Delay(FeedState.StuckAfter)).ConfigureAwait(false);
            if (read > 0 && state.TryLeave(read))
            {
                RunLog.SourceLeftBehind(Options.Logger, Units.Duration(Options.DrainTimeout));
                ledger.SourceDone();
                return;
            }
        }
        await feeding.ConfigureAwait(false);
    }

    /// <summary>
    /// Returns when every block has completed. When every input has ended (or, after an abort, the drain timeout has
    /// passed) the blocks get up to the drain timeout to complete by themselves — completion travels down the links
    /// in milliseconds — and only then are they completed by force, their leftover output dropped.
    /// </summary>
    private async Task WaitForEndAsync(INurseryBlock[] blocks, Ledger ledger, Task drainedAfterAbort)
    {
        var allCompleted = Task.WhenAll(blocks.Select(block => block.Completion));
        await Task.WhenAny(allCompleted, ledger.Drained, drainedAfterAbort).ConfigureAwait(false);
        if (allCompleted.IsCompleted)
        {
            await SettleLostItemsAsync(ledger).ConfigureAwait(false);
            return;
        }
        if (ledger.Drained.IsCompleted)
        {
            // Every input is accounted for; Lefts may still be on their way to the end, so no block is completed yet.
            await Task.WhenAny(allCompleted, Task.Delay(Options.DrainTimeout)).ConfigureAwait(false);
            if (allCompleted.IsCompleted)
                return;
        }
        else
        {
            // Items stuck in blocks that cannot deliver (a full, declining or faulted target) after the abort.
            ledger.Abandon($"the run was aborted ({abort.Outcome.Reason}) and the item did not leave its block within the drain timeout", abort.Failure);
        }
        foreach (var block in blocks)
        {
            block.Complete();
            block.DiscardOutput();
        }
        await Task.WhenAny(allCompleted, Task.Delay(Options.DrainTimeout)).ConfigureAwait(false);
    }

    /// <summary>
    /// Every block has completed, so nothing can still end an item: an item read but not ended by then was lost by a
    /// defect. It is counted Cancelled, naming that, and the run is not reported complete, so the books still balance
    /// and the loss is seen rather than hidden in a completed result whose counts do not add up.
    /// </summary>
    private async Task SettleLostItemsAsync(Ledger ledger)
    {
        // After an abort the books are settled as the abort says (a block completed by force ends what it held).
        if (ledger.InFlight <= 0 || scope.IsAborted)
            return;
        // An end a block made just before it completed may still be on its way to the books.
        var deadline = Environment.TickCount64 + (long)Options.DrainTimeout.TotalMilliseconds;
        while (ledger.InFlight > 0 && Environment.TickCount64 < deadline)
            await Task.Delay(10).ConfigureAwait(false);
        if (ledger.InFlight <= 0)
            return;
        const string Reason = "every block of the pipeline completed but the item never reached its end (a defect in Nursery: please report it with this result)";
        scope.Abort(Reason, null, AbortCause.BlockFaulted);
        ledger.Abandon(Reason, Option<ChildFailure>.None);
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
}
