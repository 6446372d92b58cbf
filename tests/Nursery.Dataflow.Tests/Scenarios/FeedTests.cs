using System.Collections.Concurrent;
using System.Globalization;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Nursery.TestBodies;
using Nursery.Tests.Support;

namespace Nursery.Dataflow.Tests.Scenarios;

/// <summary>
/// The run's feed at an abort: every item the source yielded is counted and ends once (in the result and the job log),
/// the source is not read again, and a read that is waiting when the run aborts does not hold the run.
/// </summary>
public sealed class FeedTests
{
    private static readonly TimeSpan Bound = Pipelines.Bound;

    /// <summary>The item the failing source gives a crashing value (a real child exits on it).</summary>
    private const int Poisoned = 25;

    public enum AbortBy
    {
        Deadline,
        Failure,
        Caller,
    }

    [Theory]
    [InlineData(true, AbortBy.Deadline)]
    [InlineData(true, AbortBy.Failure)]
    [InlineData(true, AbortBy.Caller)]
    [InlineData(false, AbortBy.Deadline)]
    [InlineData(false, AbortBy.Failure)]
    [InlineData(false, AbortBy.Caller)]
    public async Task Every_item_a_slow_source_yielded_before_an_abort_is_counted_and_ends_once(bool asynchronous, AbortBy abortBy)
    {
        var log = Path.Combine(Path.GetTempPath(), $"nursery-feed-{Guid.NewGuid():N}.tsv");
        try
        {
            // A slow source (20 ms an item) in front of 2 workers of 50 ms items: when the run aborts, the feed is
            // usually waiting for the source's next item.
            var source = new CountingSource(TimeSpan.FromMilliseconds(20), poisoned: abortBy == AbortBy.Failure ? Poisoned : -1);
            using var caller = new CancellationTokenSource();
            var options = Pipelines.Quick() with { JobLog = log, Deadline = abortBy == AbortBy.Deadline ? TimeSpan.FromSeconds(1) : Timeout.InfiniteTimeSpan };
            await using var scope = new NurseryScope(options);
            var check = scope.Stage<int, int>(Bodies.ExitOnNegative, new StageOptions { Name = "check", Workers = 2, ItemsPerWorker = 1 });
            var work = scope.Stage<int, int>(Bodies.SleepMilliseconds, new StageOptions { Name = "work", Workers = 2, ItemsPerWorker = 1 });
            var delivered = 0;
            var sink = scope.Sink<int>(_ => Interlocked.Increment(ref delivered));
            check.LinkTo(work);
            work.LinkTo(sink);
            if (abortBy == AbortBy.Caller)
                caller.CancelAfter(TimeSpan.FromSeconds(1));

            var result = await (asynchronous ? scope.RunAsync(source.ReadAsync(), check, cancellationToken: caller.Token) : scope.RunAsync(source.Read(), check, cancellationToken: caller.Token)).WaitAsync(Bound);
            var yieldedAtReturn = source.Yielded;
            await Task.Delay(200);

            Assert.True(result.Aborted, result.ToString());
            Assert.Equal(abortBy switch { AbortBy.Deadline => AbortCause.Deadline, AbortBy.Failure => AbortCause.Failure, _ => AbortCause.Caller }, result.AbortCause);
            Assert.Equal(source.Yielded, result.Inputs);
            Assert.Equal(yieldedAtReturn, source.Yielded);
            Assert.True(source.Yielded < CountingSource.Length, "the source ran dry before the abort; the test proves nothing");
            Assert.True(result.IsBalanced, result.ToString());
            Assert.Equal(result.Inputs, result.Succeeded + result.Failed);
            Assert.Equal(delivered, result.Succeeded);
            // Every yielded key ends exactly once in the job log, with the outcome the result counts.
            var ends = EndLines(log);
            Assert.Equal(Keys(source.Yielded), ends.Select(end => end.Key).Order(StringComparer.Ordinal));
            Assert.Equal(result.Succeeded, ends.Count(end => end.Outcome == "Succeeded"));
            Assert.Equal(result.CountsByKind[FailureKind.Cancelled], ends.Count(end => end.Outcome == "Cancelled"));
            Assert.Equal(result.Failures.Select(failure => failure.Key).Order(StringComparer.Ordinal), ends.Where(end => end.Outcome != "Succeeded").Select(end => end.Key).Order(StringComparer.Ordinal));
            if (abortBy == AbortBy.Failure)
                Assert.Equal(Poisoned.ToString(CultureInfo.InvariantCulture), Assert.IsType<ChildFailure.Crashed>(result.FirstFailure.Case).Key);
            await Processes.AssertAllGoneAsync(check.ProcessIds, work.ProcessIds);
        }
        finally
        {
            File.Delete(log);
        }
    }

    [Fact]
    public async Task After_an_abort_a_channel_source_keeps_every_message_the_run_did_not_count()
    {
        var channel = Channel.CreateUnbounded<int>();
        var written = 0;
        using var stopWriting = new CancellationTokenSource();
        var writer = Task.Run(async () =>
        {
            while (!stopWriting.IsCancellationRequested)
            {
                await channel.Writer.WriteAsync(written, CancellationToken.None);
                Interlocked.Increment(ref written);
                await Task.Delay(15, CancellationToken.None);
            }
        });
        await using var scope = new NurseryScope(Pipelines.Quick() with { Deadline = TimeSpan.FromSeconds(1) });
        var stage = scope.Stage<int, int>(Bodies.Double, new StageOptions { Workers = 1, ItemsPerWorker = 1 });
        var sink = scope.Sink<int>(_ => { });
        stage.LinkTo(sink);

        var result = await scope.RunAsync(channel.Reader.ReadAllAsync(), stage).WaitAsync(Bound);
        await Task.Delay(100);
        await stopWriting.CancelAsync();
        await writer.WaitAsync(Bound);

        Assert.Equal(AbortCause.Deadline, result.AbortCause);
        Assert.True(result.IsBalanced, result.ToString());
        Assert.True(result.Inputs > 0, result.ToString());
        // Nothing was taken from the channel and dropped: what the run did not count is still there.
        Assert.Equal(Volatile.Read(ref written), result.Inputs + channel.Reader.Count);
        await Processes.AssertAllGoneAsync(stage.ProcessIds);
    }

    [Fact]
    public async Task A_source_waiting_for_an_item_that_never_comes_is_stopped_by_the_abort_through_its_token()
    {
        var channel = Channel.CreateUnbounded<int>();
        for (var i = 0; i < 5; i++)
            await channel.Writer.WriteAsync(i);
        await using var scope = new NurseryScope(Pipelines.Quick() with { Deadline = TimeSpan.FromSeconds(1), DrainTimeout = TimeSpan.FromSeconds(30) });
        var stage = scope.Stage<int, int>(Bodies.Double, new StageOptions { Workers = 1 });
        var sink = scope.Sink<int>(_ => { });
        stage.LinkTo(sink);

        var started = DateTime.UtcNow;
        var result = await scope.RunAsync(channel.Reader.ReadAllAsync(), stage).WaitAsync(Bound);

        // The channel's read honours the token the run gives the enumerator: the run returns without the drain timeout.
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(20), "the run waited for the drain timeout instead of cancelling the read");
        Assert.Equal(AbortCause.Deadline, result.AbortCause);
        Assert.Equal(5, result.Inputs);
        Assert.True(result.IsBalanced, result.ToString());
        await Processes.AssertAllGoneAsync(stage.ProcessIds);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_source_that_ignores_the_token_and_never_returns_does_not_hold_the_run_after_an_abort(bool asynchronous)
    {
        using var release = new SemaphoreSlim(0);
        var logger = new RecordingLogger();
        await using var scope = new NurseryScope(Pipelines.Quick() with { Deadline = TimeSpan.FromSeconds(1), DrainTimeout = TimeSpan.FromMilliseconds(500), Logger = logger });
        var stage = scope.Stage<int, int>(Bodies.Double, new StageOptions { Workers = 1 });
        var sink = scope.Sink<int>(_ => { });
        stage.LinkTo(sink);

        var result = await (asynchronous ? scope.RunAsync(StuckAsync(release), stage) : scope.RunAsync(Stuck(release), stage)).WaitAsync(Bound);

        Assert.Equal(AbortCause.Deadline, result.AbortCause);
        Assert.Equal(3, result.Inputs);
        Assert.True(result.IsBalanced, result.ToString());
        await Processes.AssertAllGoneAsync(stage.ProcessIds);

        // The read left behind gives its item after the run returned: it is not processed, and the log says so.
        release.Release();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        static bool NamesTheLateItem(string line) => line.Contains("gave item \"3\" after the run returned", StringComparison.Ordinal);
        while (!logger.Lines.Any(NamesTheLateItem) && DateTime.UtcNow < deadline)
            await Task.Delay(20);
        Assert.Contains(logger.Lines, NamesTheLateItem);
        Assert.Contains(logger.Lines, line => line.Contains("did not return its next item", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_key_function_that_never_returns_does_not_hold_the_run_after_an_abort()
    {
        using var release = new SemaphoreSlim(0);
        var logger = new RecordingLogger();
        await using var scope = new NurseryScope(Pipelines.Quick() with { Deadline = TimeSpan.FromSeconds(1), DrainTimeout = TimeSpan.FromMilliseconds(500), Logger = logger });
        var stage = scope.Stage<int, int>(Bodies.Double, new StageOptions { Workers = 1 });
        var sink = scope.Sink<int>(_ => { });
        stage.LinkTo(sink);
        string Key(int value)
        {
            if (value == 3)
                release.Wait();
            return $"k{value}";
        }

        var result = await scope.RunAsync(Enumerable.Range(0, 10), stage, Key).WaitAsync(Bound);

        Assert.Equal(AbortCause.Deadline, result.AbortCause);
        Assert.Equal(3, result.Inputs);
        Assert.True(result.IsBalanced, result.ToString());
        await Processes.AssertAllGoneAsync(stage.ProcessIds);
        release.Release();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        static bool NamesTheLateItem(string line) => line.Contains("gave item \"k3\" after the run returned", StringComparison.Ordinal);
        while (!logger.Lines.Any(NamesTheLateItem) && DateTime.UtcNow < deadline)
            await Task.Delay(20);
        Assert.Contains(logger.Lines, NamesTheLateItem);
    }

    /// <summary>Three items, then a read that waits for <paramref name="release"/> whatever the token says.</summary>
    private static async IAsyncEnumerable<int> StuckAsync(SemaphoreSlim release)
    {
        for (var i = 0; i < 3; i++)
            yield return i;
        await release.WaitAsync();
        yield return 3;
    }

    /// <summary>As <see cref="StuckAsync"/>, blocking its thread.</summary>
    private static IEnumerable<int> Stuck(SemaphoreSlim release)
    {
        for (var i = 0; i < 3; i++)
            yield return i;
        release.Wait();
        yield return 3;
    }

    private static IEnumerable<string> Keys(int count) => Enumerable.Range(0, count).Select(i => i.ToString(CultureInfo.InvariantCulture)).Order(StringComparer.Ordinal);

    /// <summary>The job log's end lines (stage "(end)"): key and outcome.</summary>
    internal static List<(string Key, string Outcome)> EndLines(string log) =>
        [
            .. File.ReadLines(log)
                .Select(line => line.Split('\t'))
                .Where(fields => fields.Length >= 7 && fields[1] == "(end)")
                .Select(fields => (fields[0], fields[6])),
        ];

    /// <summary>A source of 50s (a 50 ms item each) that takes <paramref name="pause"/> to produce each one and counts what it yielded.</summary>
    private sealed class CountingSource(TimeSpan pause, int poisoned)
    {
        public const int Length = 10_000;

        private int _yielded;

        public int Yielded => Volatile.Read(ref _yielded);

        private int Value(int index) => index == poisoned ? -1 : 50;

        /// <summary>The pause is not cancellable: the item is already being taken (a dequeue in progress) when it starts.</summary>
        public async IAsyncEnumerable<int> ReadAsync()
        {
            for (var i = 0; i < Length; i++)
            {
                await Task.Delay(pause, CancellationToken.None);
                Interlocked.Increment(ref _yielded);
                yield return Value(i);
            }
        }

        public IEnumerable<int> Read()
        {
            for (var i = 0; i < Length; i++)
            {
                Thread.Sleep(pause);
                Interlocked.Increment(ref _yielded);
                yield return Value(i);
            }
        }
    }

    private sealed class RecordingLogger : ILogger
    {
        private readonly ConcurrentQueue<string> _lines = new();

        public IEnumerable<string> Lines => _lines;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            _lines.Enqueue($"{logLevel}: {formatter(state, exception)}");
    }
}
