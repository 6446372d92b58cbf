using LanguageExt;
using Nursery.Engines;

namespace Nursery.Dataflow.Tests.Plumbing.Engines;

/// <summary>
/// The one attempt loop of stages and sinks, in-process with scripted attempts (no child involved): attempt numbers,
/// records, the backoff sequence, more memory after an OOM kill, and how the policy ends an item.
/// </summary>
public sealed class AttemptLoopTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    private static Either<ChildFailure, int> Crash => Prelude.Left<ChildFailure, int>(new ChildFailure.Crashed(137, 9, "killed"));

    private static Either<ChildFailure, int> Value(int value) => Prelude.Right<ChildFailure, int>(value);

    private static Task<Either<ChildFailure, int>> RunAsync(Policy policy, RecordingBooks books, AttemptScript script, long memoryLimit = 0, bool firstStarted = true) =>
        new AttemptLoop("stage", policy.Validate(), books).RunAsync<int, ScriptedAttempt>("7", new ScriptedAttempt(script), memoryLimit, firstStarted).WaitAsync(Bound);

    [Fact]
    public async Task A_retried_item_that_then_succeeds_records_every_attempt_and_is_counted_once()
    {
        var books = new RecordingBooks();
        var script = new AttemptScript(Crash, Crash, Value(42));

        var result = await RunAsync(Policy.Retry(5), books, script);

        Assert.Equal(Value(42), result);
        // A success is recorded with the process the attempt names, a failure with the one the failure names.
        Assert.Equal([(1, ItemOutcome.Failed(FailureKind.Crashed), 0), (2, ItemOutcome.Failed(FailureKind.Crashed), 0), (3, ItemOutcome.Succeeded, 103)], books.Attempts.Select(record => (record.Attempt, record.Outcome, record.ProcessId)));
        Assert.All(books.Attempts, record => Assert.Equal(("stage", "7"), (record.Stage, record.Key)));
        Assert.Equal(1, script.Succeeded);
        Assert.Empty(books.Failures);
        Assert.Empty(books.Aborts);
    }

    [Fact]
    public async Task The_backoff_doubles_from_the_first_wait_up_to_the_longest_and_the_attempts_stop_at_the_maximum()
    {
        var books = new RecordingBooks();
        var script = new AttemptScript(Crash);
        var policy = Policy.Retry(5) with { Backoff = TimeSpan.FromMilliseconds(100), MaxBackoff = TimeSpan.FromMilliseconds(300) };

        var result = await RunAsync(policy, books, script);

        Assert.Equal([100.0, 200.0, 300.0, 300.0], books.Delays.Select(wait => wait.TotalMilliseconds));
        Assert.Equal([1, 2, 3, 4, 5], script.Started.Select(started => started.Attempt));
        var failure = Assert.Single(books.Failures);
        Assert.Equal((FailureKind.Crashed, 5), (failure.Kind, books.Attempts[^1].Attempt));
        Assert.Equal(failure, result.Match(_ => throw new InvalidOperationException("a Right"), left => left));
        Assert.Equal(failure, Assert.Single(books.Aborts)); // then fail fast, the default
        Assert.Equal(0, script.Succeeded);
    }

    [Fact]
    public async Task A_failure_of_a_kind_not_retried_ends_the_item_at_once_and_fails_fast()
    {
        var books = new RecordingBooks();
        var faulted = new ChildFailure.Faulted(RemoteError.From(new InvalidOperationException("bad input")));
        var script = new AttemptScript(Prelude.Left<ChildFailure, int>(faulted));

        await RunAsync(Policy.Retry(3), books, script);

        Assert.Single(script.Started);
        Assert.Empty(books.Delays);
        Assert.Equal(ItemOutcome.Failed(FailureKind.Faulted), Assert.Single(books.Attempts).Outcome);
        Assert.Equal(faulted, Assert.Single(books.Failures));
        Assert.Equal(faulted, Assert.Single(books.Aborts));
    }

    [Fact]
    public async Task Skip_records_the_failure_and_lets_the_run_go_on()
    {
        var books = new RecordingBooks();

        var result = await RunAsync(Policy.Skip, books, new AttemptScript(Crash));
        var afterRetries = await RunAsync(Policy.Retry(2).ThenSkip(), books, new AttemptScript(Crash));

        Assert.True(result.IsLeft);
        Assert.True(afterRetries.IsLeft);
        Assert.Equal(2, books.Failures.Count);
        Assert.Equal(3, books.Attempts.Count);
        Assert.Empty(books.Aborts);
    }

    [Fact]
    public async Task After_an_out_of_memory_kill_the_next_attempt_runs_with_the_grown_limit()
    {
        const long Mebibyte = 1 << 20;
        var books = new RecordingBooks();
        var script = new AttemptScript(
            Prelude.Left<ChildFailure, int>(new ChildFailure.OutOfMemory(64 * Mebibyte, Option<long>.None)),
            Prelude.Left<ChildFailure, int>(new ChildFailure.OutOfMemory(128 * Mebibyte, Option<long>.None)),
            Value(1));

        var result = await RunAsync(Policy.Retry(3).WithMoreMemory(2.0), books, script, memoryLimit: 0);

        Assert.True(result.IsRight);
        Assert.Equal([0L, 128 * Mebibyte, 256 * Mebibyte], script.Started.Select(started => started.MemoryLimit));
    }

    [Fact]
    public async Task An_abort_during_the_backoff_ends_the_item_with_its_last_failure()
    {
        var books = new RecordingBooks { AbortsDuringDelay = true };
        var script = new AttemptScript(Crash, Value(1));

        var result = await RunAsync(Policy.Retry(3).ThenSkip(), books, script);

        Assert.Single(script.Started);
        Assert.Single(books.Delays);
        var failure = Assert.Single(books.Failures);
        Assert.Equal((FailureKind.Crashed, 1), (failure.Kind, Assert.Single(books.Attempts).Attempt));
        Assert.True(result.IsLeft);
    }

    [Fact]
    public async Task An_item_not_started_when_the_run_aborts_ends_cancelled_without_an_attempt()
    {
        var books = new RecordingBooks { IsAborted = true };
        var script = new AttemptScript(Value(1));

        var result = await RunAsync(Policy.Retry(3), books, script, firstStarted: false);

        Assert.Empty(script.Started);
        Assert.Empty(books.Attempts);
        var failure = Assert.IsType<ChildFailure.Cancelled>(Assert.Single(books.Failures));
        Assert.Equal(("7", 1, false), (failure.Key, failure.Attempt, failure.ItemStarted));
        Assert.Empty(books.Aborts);
        Assert.True(result.IsLeft);
    }

    [Fact]
    public async Task A_first_attempt_already_started_is_read_even_when_the_run_is_aborting()
    {
        var books = new RecordingBooks { IsAborted = true };
        var script = new AttemptScript(Value(5), Value(6));

        var result = await RunAsync(Policy.Retry(3), books, script, firstStarted: true);

        Assert.Equal(Value(5), result);
        Assert.Equal(1, script.Succeeded);
        Assert.Equal(ItemOutcome.Succeeded, Assert.Single(books.Attempts).Outcome);
    }

    [Fact]
    public async Task A_retry_is_not_made_once_the_run_aborts_and_a_cancellation_then_names_the_abort_and_keeps_the_child()
    {
        var books = new RecordingBooks { IsAborted = true };
        var cancelled = new ChildFailure.Cancelled("killed by the pool", Option<ChildFailure>.None, ItemStarted: true) { ProcessId = 4242, Elapsed = TimeSpan.FromSeconds(3) };
        var script = new AttemptScript(Prelude.Left<ChildFailure, int>(cancelled));

        await RunAsync(Policy.Retry(3).On(FailureKind.Cancelled), books, script);

        Assert.Single(script.Started);
        var failure = Assert.IsType<ChildFailure.Cancelled>(Assert.Single(books.Failures));
        Assert.Equal(("the run was aborted", 4242, TimeSpan.FromSeconds(3), true), (failure.Reason, failure.ProcessId, failure.Elapsed, failure.ItemStarted));
        Assert.Equal(4242, Assert.Single(books.Attempts).ProcessId);
    }

    [Fact]
    public async Task A_start_failure_of_a_runner_stopped_for_good_stops_the_stage_whatever_the_policy()
    {
        var books = new RecordingBooks();
        var startFailed = new ChildFailure.StartFailed("restart intensity reached");
        var stopped = new AttemptScript(Prelude.Left<ChildFailure, int>(startFailed)) { RunnerFailed = true };
        var running = new AttemptScript(Prelude.Left<ChildFailure, int>(startFailed));

        await RunAsync(Policy.Skip, books, stopped);
        await RunAsync(Policy.Skip, books, running);

        Assert.Equal(startFailed, Assert.Single(books.StageAborts));
        Assert.Empty(books.Aborts);
        Assert.Equal(2, books.Failures.Count);
    }

    [Fact]
    public async Task The_loop_reads_an_attempt_only_when_it_has_ended()
    {
        var books = new RecordingBooks();
        var second = new TaskCompletionSource();
        var script = new AttemptScript(Crash, Value(9)) { Running = { [2] = second.Task } };

        var result = RunAsync(Policy.Retry(2) with { Backoff = TimeSpan.Zero }, books, script);
        Assert.Equal(2, script.Started.Count);
        Assert.False(result.IsCompleted);
        second.SetResult();

        Assert.Equal(Value(9), await result);
    }

    [Fact]
    public async Task A_defect_in_reading_an_attempt_faults_the_items_task()
    {
        var books = new RecordingBooks();
        var script = new AttemptScript(Value(1)) { Defective = true };

        await Assert.ThrowsAsync<InvalidOperationException>(() => RunAsync(Policy.FailFast, books, script));
        Assert.Empty(books.Attempts);
    }
}
