using LanguageExt;

namespace Nursery.Engines;

/// <summary>
/// Runs an item's attempts under a block's policy: numbers them, records each, retries (after the backoff, with more
/// memory after an OOM kill) while the policy says so and the run is not aborting, then skips the item or fails fast,
/// and gives the item's final result. What one attempt is, the block says (<see cref="IAttempt{T}"/>). One per block.
/// </summary>
internal sealed class AttemptLoop(string stage, Policy policy, IAttemptBooks books)
{
    /// <summary>The block's policy.</summary>
    public Policy Policy => policy;

    /// <summary>
    /// Runs attempts of item <paramref name="key"/> until one succeeds or the policy ends the item; its failure is
    /// recorded as final (and aborts the run under fail fast). <paramref name="firstStarted"/>: the first attempt has
    /// already begun (a batch ran it), so it runs even when the run is aborting. Throws only for a defect.
    /// </summary>
    public async Task<Either<ChildFailure, T>> RunAsync<T, TAttempt>(string key, TAttempt attempts, long memoryLimit, bool firstStarted)
        where TAttempt : IAttempt<T>
    {
        for (var attempt = 1; ; attempt++)
        {
            if ((attempt > 1 || !firstStarted) && books.IsAborted)
                return Fail(books.AbortedFailure(stage, key, attempt, itemStarted: false), abort: false);
            var running = attempts.Start(attempt, memoryLimit);
            await running.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            var (result, processId, start, end) = attempts.End(running, attempt);
            if (result.IsRight)
            {
                books.Attempt(stage, key, attempt, processId, start, end, ItemOutcome.Succeeded, "");
                attempts.Succeeded();
                return result;
            }
            var failure = result.Match(static _ => throw new InvalidOperationException(), static failure => failure);
            if (failure is ChildFailure.Cancelled cancelled && books.IsAborted)
                failure = books.AbortedFailure(stage, key, attempt, cancelled.ItemStarted) with { ProcessId = failure.ProcessId, Elapsed = failure.Elapsed, StderrTail = failure.StderrTail };
            books.Attempt(stage, key, attempt, failure.ProcessId, start, end, ItemOutcome.Failed(failure.Kind), failure.Summary);

            var final = policy;
            if (policy is RetryPolicy retry)
            {
                if (!books.IsAborted && retry.ShouldRetry(failure, attempt))
                {
                    if (failure is ChildFailure.OutOfMemory oom && retry.MemoryGrowth > 1.0)
                        memoryLimit = (long)(Math.Max(memoryLimit, oom.LimitBytes) * retry.MemoryGrowth);
                    if (await books.DelayAsync(retry.BackoffBefore(attempt + 1)).ConfigureAwait(false))
                        continue;
                }
                final = retry.Then;
            }
            if (failure is ChildFailure.StartFailed && attempts.RunnerFailed)
            {
                books.Failed(failure);
                books.AbortForFailedStage(failure);
                return Prelude.Left<ChildFailure, T>(failure);
            }
            return Fail(failure, abort: final == Policy.FailFast);
        }

        Either<ChildFailure, T> Fail(ChildFailure failure, bool abort)
        {
            books.Failed(failure);
            if (abort)
                books.Abort(failure);
            return Prelude.Left<ChildFailure, T>(failure);
        }
    }
}
