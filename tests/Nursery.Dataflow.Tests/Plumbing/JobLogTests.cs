using System.Text;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Nursery.Dataflow.Tests.Plumbing;

/// <summary>The job log as a journal: its header, escaping, torn last lines, and the keys a resumed run reads back.</summary>
public sealed class JobLogTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("nursery-joblog-test-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string LogPath => Path.Combine(_directory, "run.tsv");

    /// <summary>Keys with what a job log must escape: backslashes, tabs, CR, LF, other controls, non-ASCII, surrogates (paired and lone), empty.</summary>
    public static class Keys
    {
        private static readonly Gen<char> Special = Gen.Elements('\\', '\t', '\r', '\n', '\0', '\x7f', 'u', 't', 'n', 'r', '0', 'é', '✓', '\ud83d', '\ude00', '\ud800', '\udfff', ' ', '|');

        private static readonly Gen<char> AnyUnit = Gen.Choose(0, 0xFFFF).Select(code => (char)code);

        public static Gen<string> Key =>
            Gen.Frequency((3, Special), (2, AnyUnit), (2, Gen.Choose(32, 126).Select(code => (char)code))).ArrayOf().Select(chars => new string(chars));

        public static Arbitrary<string> Strings() => Arb.From(Key);
    }

    [Property(MaxTest = 2000, Arbitrary = [typeof(Keys)])]
    public bool Unescape_gives_back_exactly_what_Escape_was_given(string key)
    {
        var escaped = JobLog.Escape(key);
        return !escaped.Contains('\t') && !escaped.Contains('\n') && !escaped.Contains('\r') && JobLog.TryUnescape(escaped, out var back) && back == key;
    }

    [Property(MaxTest = 100, Arbitrary = [typeof(Keys)])]
    public bool A_written_log_read_back_gives_exactly_the_keys_written(string[] keys)
    {
        var path = Path.Combine(_directory, $"{Guid.NewGuid():N}.tsv");
        var log = JobLog.Open(path, sync: false, NullLogger.Instance);
        foreach (var key in keys)
        {
            log.Attempt(new ItemRecord("stage\twith tab", key, 1, 42, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, ItemOutcome.Succeeded, "detail\nwith\\newline"));
            log.Ended(key, ItemOutcome.Succeeded, "");
        }
        log.DisposeAsync().AsTask().GetAwaiter().GetResult();

        var read = JobLog.Read(path);
        File.Delete(path);
        return read.Keys.ToHashSet().SetEquals(keys) && read.Values.All(state => state == JobLog.KeyState.Succeeded);
    }

    [Fact]
    public async Task A_surrogate_pair_survives_wherever_it_falls_in_the_lines_written_at_once()
    {
        var keys = Enumerable.Range(0, 3000).Select(i => new string('a', i % 3) + string.Concat(Enumerable.Repeat("😀", 10)) + i).ToList();
        var log = JobLog.Open(LogPath, sync: false, NullLogger.Instance);
        foreach (var key in keys)
            log.Ended(key, ItemOutcome.Succeeded, "");
        await log.DisposeAsync();

        Assert.Equal(keys.Order(StringComparer.Ordinal), JobLog.Read(LogPath).Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_new_log_starts_with_a_header_naming_the_format_and_its_version()
    {
        var log = JobLog.Open(LogPath, sync: false, NullLogger.Instance);
        await log.DisposeAsync();

        var first = File.ReadLines(LogPath).First();
        Assert.StartsWith("#nursery-joblog 1\tkey\tstage", first);
    }

    [Fact]
    public async Task An_end_line_is_in_the_file_once_flushed_without_waiting_for_the_end_of_the_run()
    {
        var log = JobLog.Open(LogPath, sync: false, NullLogger.Instance);
        try
        {
            log.Ended("a", ItemOutcome.Succeeded, "");
            log.Flush();

            Assert.Equal(JobLog.KeyState.Succeeded, JobLog.Read(LogPath)["a"]);
        }
        finally
        {
            await log.DisposeAsync();
        }
    }

    [Theory]
    [InlineData("key\tstage\tattempt\tpid\tstart\truntime_s\toutcome\tdetail\n1\t(end)\t0\t0\t1.000\t0.000\tSucceeded\t\n", "is not a Nursery job log")]
    [InlineData("#nursery-joblog 2\tkey\tstage\tattempt\tpid\tstart\truntime_s\toutcome\tdetail\n", "another version")]
    [InlineData("id,name\n1,alice\n", "is not a Nursery job log")]
    public async Task A_file_that_is_not_a_job_log_of_this_version_is_refused_with_what_to_do_and_left_as_it_was(string content, string why)
    {
        await File.WriteAllTextAsync(LogPath, content);
        await using var scope = new NurseryScope(new NurseryOptions { JobLog = LogPath, Resume = true });
        var sink = scope.Sink<int>(_ => { });

        var error = await Assert.ThrowsAsync<InvalidDataException>(() => scope.RunAsync([1, 2, 3], sink).WaitAsync(TimeSpan.FromSeconds(30)));

        Assert.Contains(why, error.Message);
        Assert.Contains(LogPath, error.Message);
        Assert.Contains("new path", error.Message);
        Assert.Equal(content, await File.ReadAllTextAsync(LogPath));
    }

    [Fact]
    public async Task A_file_that_is_not_a_job_log_is_refused_without_resume_too()
    {
        await File.WriteAllTextAsync(LogPath, "my notes\n");
        await using var scope = new NurseryScope(new NurseryOptions { JobLog = LogPath });
        var sink = scope.Sink<int>(_ => { });

        await Assert.ThrowsAsync<InvalidDataException>(() => scope.RunAsync([1], sink).WaitAsync(TimeSpan.FromSeconds(30)));

        Assert.Equal("my notes\n", await File.ReadAllTextAsync(LogPath));
    }

    [Fact]
    public async Task A_device_such_as_dev_null_takes_the_log()
    {
        await using var scope = new NurseryScope(new NurseryOptions { JobLog = "/dev/null" });
        var sink = scope.Sink<int>(_ => { });

        var result = await scope.RunAsync([1, 2], sink).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(result.Completed, result.ToString());
        Assert.Equal(2, result.Succeeded);
    }

    [Fact]
    public async Task An_empty_file_starts_a_new_log()
    {
        await File.WriteAllTextAsync(LogPath, "");
        await using var scope = new NurseryScope(new NurseryOptions { JobLog = LogPath, Resume = true });
        var sink = scope.Sink<int>(_ => { });

        var result = await scope.RunAsync([1, 2], sink, x => $"k{x}").WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(result.Completed, result.ToString());
        Assert.Equal(new[] { "k1", "k2" }, JobLog.Read(LogPath).Keys.Order());
    }

    [Fact]
    public async Task A_torn_last_line_is_ignored_with_a_warning_and_the_next_line_starts_on_its_own()
    {
        var log = JobLog.Open(LogPath, sync: false, NullLogger.Instance);
        log.Ended("done", ItemOutcome.Succeeded, "");
        await log.DisposeAsync();
        await File.AppendAllTextAsync(LogPath, "torn\t(end)\t0\t0\t1.0"); // a writer killed mid-line
        var logger = new RecordingLogger();
        await using var scope = new NurseryScope(new NurseryOptions { JobLog = LogPath, Resume = true, Logger = logger });
        var seen = new List<string>();
        var sink = scope.Sink<string>(seen.Add);

        var result = await scope.RunAsync(["done", "torn", "new"], sink, x => x).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(result.Completed, result.ToString());
        Assert.Equal(1, result.Resumed);
        Assert.Equal(new[] { "torn", "new" }, seen);
        Assert.Contains(logger.Lines, line => line.Contains("cut-off line") && line.Contains("torn\t(end)"));
        var lines = await File.ReadAllLinesAsync(LogPath);
        Assert.All(lines.Skip(1), line => Assert.Equal(8, line.Split('\t').Length));
        Assert.Equal(new[] { "done", "new", "torn" }, JobLog.Read(LogPath).Where(pair => pair.Value == JobLog.KeyState.Succeeded).Select(pair => pair.Key).Order());
    }

    [Fact]
    public async Task A_sink_writes_a_deliver_line_before_its_action_and_the_end_line_after_it()
    {
        var states = new List<(string Key, JobLog.KeyState? State)>();
        await using var scope = new NurseryScope(new NurseryOptions { JobLog = LogPath });
        var sink = scope.Sink<string>(key => states.Add((key, JobLog.Read(LogPath).TryGetValue(key, out var state) ? state : null)));

        var result = await scope.RunAsync(["a", "b", "c"], sink, x => x).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(result.Completed, result.ToString());
        // While its action runs, an item is in doubt in the file (a crash now would leave that), never unrecorded.
        Assert.All(states, seen => Assert.Equal(JobLog.KeyState.InDoubt, seen.State));
        Assert.All(JobLog.Read(LogPath).Values, state => Assert.Equal(JobLog.KeyState.Succeeded, state));
    }

    [Fact]
    public async Task A_resumed_run_asks_ResumeInDoubt_about_items_in_doubt_only_and_skips_those_the_sink_has()
    {
        await File.WriteAllTextAsync(
            LogPath,
            JobLog.Header + "\n"
                + "ok\t(end)\t0\t0\t1.000\t0.000\tSucceeded\t\n"
                + "had\t(deliver)\t0\t0\t1.000\t0.000\tStarted\tsink\n"
                + "lost\t(deliver)\t0\t0\t1.000\t0.000\tStarted\tsink\n"
                + "failed\t(end)\t0\t0\t1.000\t0.000\tFaulted\tboom\n"
        );
        var asked = new List<string>();
        var logger = new RecordingLogger();
        await using var scope = new NurseryScope(
            new NurseryOptions
            {
                JobLog = LogPath,
                Resume = true,
                Logger = logger,
                ResumeInDoubt = key =>
                {
                    asked.Add(key);
                    return key == "had";
                },
            }
        );
        var seen = new List<string>();
        var sink = scope.Sink<string>(seen.Add);

        var result = await scope.RunAsync(["ok", "had", "lost", "failed", "new"], sink, x => x).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(result.Completed, result.ToString());
        Assert.Equal(new[] { "had", "lost" }, asked.Order());
        Assert.Equal(new[] { "lost", "failed", "new" }, seen);
        Assert.Equal(2, result.Resumed);
        Assert.Contains(logger.Lines, line => line.Contains("2 item(s) in doubt"));
    }

    [Fact]
    public async Task Without_ResumeInDoubt_items_in_doubt_run_again()
    {
        await File.WriteAllTextAsync(LogPath, JobLog.Header + "\n" + "maybe\t(deliver)\t0\t0\t1.000\t0.000\tStarted\tsink\n");
        await using var scope = new NurseryScope(new NurseryOptions { JobLog = LogPath, Resume = true });
        var seen = new List<string>();
        var sink = scope.Sink<string>(seen.Add);

        var result = await scope.RunAsync(["maybe"], sink, x => x).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(result.Completed, result.ToString());
        Assert.Equal(new[] { "maybe" }, seen);
    }

    [Fact]
    public void A_malformed_line_in_the_middle_is_refused_naming_its_line()
    {
        File.WriteAllText(LogPath, JobLog.Header + "\n" + "a\t(end)\tSucceeded\n" + "b\t(end)\t0\t0\t1.000\t0.000\tSucceeded\t\n");

        var error = Assert.Throws<InvalidDataException>(() => JobLog.Read(LogPath));

        Assert.Contains("Line 2", error.Message);
    }

    [Fact]
    public async Task Every_outcome_is_written_as_its_text_and_read_back_as_the_same_outcome()
    {
        var log = JobLog.Open(LogPath, sync: false, NullLogger.Instance);
        foreach (var outcome in ItemOutcome.All)
        {
            log.Attempt(new ItemRecord("stage", $"attempt-{outcome}", 1, 42, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, outcome, "detail"));
            log.Ended($"end-{outcome}", outcome, "detail");
        }
        await log.DisposeAsync();

        var lines = File.ReadLines(LogPath).Skip(1).Select(line => line.Split('\t')).ToList();
        Assert.Equal(ItemOutcome.All, lines.Where(fields => fields[1] == "stage").Select(fields => ItemOutcome.Parse(fields[6])));
        Assert.Equal(ItemOutcome.All, lines.Where(fields => fields[1] == JobLog.EndStage).Select(fields => ItemOutcome.Parse(fields[6])));
        Assert.Equal(["end-Succeeded"], JobLog.Read(LogPath).Where(pair => pair.Value == JobLog.KeyState.Succeeded).Select(pair => pair.Key));
    }

    [Fact]
    public void An_end_line_whose_outcome_is_no_outcome_is_refused_naming_its_line()
    {
        File.WriteAllText(LogPath, JobLog.Header + "\n" + "a\t(end)\t0\t0\t1.000\t0.000\tSucceeded\t\n" + "b\t(end)\t0\t0\t1.000\t0.000\tSucceded\t\n");

        var error = Assert.Throws<InvalidDataException>(() => JobLog.Read(LogPath));

        Assert.Contains("Line 3", error.Message, StringComparison.Ordinal);
        Assert.Contains("its outcome is neither Succeeded nor a failure kind", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SyncJobLog_writes_the_same_lines()
    {
        await using var scope = new NurseryScope(new NurseryOptions { JobLog = LogPath, SyncJobLog = true });
        var sink = scope.Sink<int>(_ => { });

        var result = await scope.RunAsync(Enumerable.Range(0, 100), sink).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(result.Completed, result.ToString());
        Assert.Equal(100, JobLog.Read(LogPath).Count(pair => pair.Value == JobLog.KeyState.Succeeded));
    }

    private sealed class RecordingLogger : ILogger
    {
        public List<string> Lines { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (Lines)
                Lines.Add(formatter(state, exception));
        }
    }
}
