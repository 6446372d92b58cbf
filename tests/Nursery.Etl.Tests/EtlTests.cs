using Nursery.Tests.Support;

[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace Nursery.Etl.Tests;

/// <summary>The ETL sample, run as a process: each policy, injected faults, resume, usage errors.</summary>
public sealed class EtlTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("nursery-etl-test-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string Db => Path.Combine(_directory, "orders.db");

    private string JobLog => Path.Combine(_directory, "joblog.tsv");

    private Task<EtlOutcome> RunAsync(params string[] arguments) =>
        EtlProcess.RunSampleAsync(_directory, ["--input", Path.Combine(_directory, "orders.jsonl"), "--db", Db, "--joblog", JobLog, .. arguments]);

    [Fact]
    public async Task A_clean_run_writes_every_line_as_an_order_or_a_reject_and_exits_0()
    {
        var run = await RunAsync("--generate", "1000");

        Assert.True(run.ExitCode == 0, run.Output);
        var summary = run.Summary!;
        Assert.Equal("completed", summary.Outcome);
        Assert.Equal(1000, summary.Inputs);
        Assert.Equal(1000, summary.Succeeded);
        var (orders, rejects) = EtlProcess.CountRows(Db);
        Assert.Equal(1000, orders + rejects);
        Assert.True(rejects > 0, "the generated file has some malformed lines, which must land in the rejects table");
        Assert.Equal((summary.OrderRows, summary.RejectRows), (orders, rejects));
        Assert.Equal(new StageCounts(1000, 0), summary.Stages["parse"]);
        Assert.Equal(new StageCounts(1000, 0), summary.Stages["convert"]);
        Assert.Equal(new StageCounts(1000, 0), summary.Stages["write"]);
        var ends = EtlProcess.EndLines(JobLog);
        Assert.Equal(1000, ends.Count);
        Assert.All(ends.Values, outcome => Assert.Equal("Succeeded", outcome));
        await EtlProcess.AssertNoChildLeftAsync(summary);
    }

    [Fact]
    public async Task Fail_fast_aborts_on_an_injected_throw_with_exit_1_the_childs_stack_trace_and_only_committed_rows()
    {
        var run = await RunAsync("--generate", "2000", "--inject", "throw:1", "--seed", "7");

        Assert.True(run.ExitCode == 1, run.Output);
        var summary = run.Summary!;
        Assert.Equal("aborted", summary.Outcome);
        Assert.Contains("InvalidDataException: injected throw", summary.FirstFailure);
        Assert.Contains("Nursery.Etl.Bodies.Faults.Apply", summary.FirstFailure); // the child's stack trace
        Assert.Contains("injected throw", run.Output);
        var (orders, rejects) = EtlProcess.CountRows(Db);
        var succeeded = EtlProcess.EndLines(JobLog).Count(e => e.Value == "Succeeded");
        Assert.Equal(summary.Succeeded, orders + rejects); // every row written is an item the run counts as done...
        Assert.Equal(succeeded, orders + rejects); // ...and the job log says so: resume can trust it
        Assert.True(summary.Inputs < 2000 || summary.Failed > 0);
        Assert.Equal(1, summary.FailedByKind["Faulted"]);
        await EtlProcess.AssertNoChildLeftAsync(summary);
    }

    [Fact]
    public async Task Skip_records_each_failure_writes_the_rest_and_exits_0()
    {
        var run = await RunAsync("--generate", "1000", "--inject", "throw:3,kill:2", "--policy", "skip");

        Assert.True(run.ExitCode == 0, run.Output);
        var summary = run.Summary!;
        Assert.Equal("completed", summary.Outcome);
        Assert.Equal(3, summary.FailedByKind["Faulted"]);
        Assert.Equal(2, summary.FailedByKind["Crashed"]);
        Assert.Equal(5, summary.Failed);
        Assert.Equal(995, summary.Succeeded);
        var (orders, rejects) = EtlProcess.CountRows(Db);
        Assert.Equal(995, orders + rejects);
        Assert.Equal(5, EtlProcess.EndLines(JobLog).Count(e => e.Value != "Succeeded"));
        Assert.Equal(new StageCounts(995, 5), summary.Stages["parse"]);
        Assert.Equal(new StageCounts(995, 0), summary.Stages["write"]);
        await EtlProcess.AssertNoChildLeftAsync(summary);
    }

    [Fact]
    public async Task Retry_recovers_a_kill_an_oom_a_hang_and_garbage_and_skips_only_the_bug()
    {
        var run = await RunAsync("--generate", "1000", "--inject", "kill:2,oom:1,hang:1,garbage:1,throw:1", "--policy", "retry", "--item-timeout", "1s", "--memory-limit", "192M");

        Assert.True(run.ExitCode == 0, run.Output);
        var summary = run.Summary!;
        var attempts = EtlProcess.AttemptOutcomes(JobLog);
        Assert.Equal(2, attempts.Count(a => a == "Crashed"));
        Assert.Equal(1, attempts.Count(a => a == "TimedOut"));
        Assert.Equal(1, attempts.Count(a => a == "ProtocolViolation"));
        Assert.Equal(1, attempts.Count(a => a == "OutOfMemory")); // the memory cgroup's oom_kill counter names it
        Assert.Equal(1, summary.Failed); // only the throw: a bug is not retried
        Assert.Equal(1, summary.FailedByKind["Faulted"]);
        Assert.Equal(999, summary.Succeeded);
        var (orders, rejects) = EtlProcess.CountRows(Db);
        Assert.Equal(999, orders + rejects);
        await EtlProcess.AssertNoChildLeftAsync(summary);
    }

    [Fact]
    public async Task A_failing_initializer_is_StartFailed_the_run_aborts_with_exit_1_and_nothing_is_written()
    {
        var run = await RunAsync("--generate", "300", "--inject", "init-fail");

        Assert.True(run.ExitCode == 1, run.Output);
        var summary = run.Summary!;
        Assert.StartsWith("StartFailed", summary.FirstFailure);
        Assert.Contains("injected init-fail", summary.FirstFailure);
        Assert.Equal(0, summary.Succeeded);
        Assert.Equal((0L, 0L), EtlProcess.CountRows(Db));
        await EtlProcess.AssertNoChildLeftAsync(summary);
    }

    [Fact]
    public async Task The_deadline_aborts_a_run_stuck_on_a_hang_with_exit_1_keeping_whole_committed_batches()
    {
        var run = await RunAsync("--generate", "1000", "--inject", "hang:1", "--item-timeout", "60s", "--deadline", "2s", "--policy", "skip");

        Assert.True(run.ExitCode == 1, run.Output);
        var summary = run.Summary!;
        Assert.Equal("aborted", summary.Outcome);
        Assert.Contains("deadline", summary.AbortReason, StringComparison.OrdinalIgnoreCase);
        Assert.True(summary.Succeeded < 1000);
        var (orders, rejects) = EtlProcess.CountRows(Db);
        Assert.Equal(summary.Succeeded, orders + rejects);
        Assert.Equal(summary.Succeeded, EtlProcess.EndLines(JobLog).Count(e => e.Value == "Succeeded"));
        await EtlProcess.AssertNoChildLeftAsync(summary);
    }

    [Fact]
    public async Task Ctrl_C_aborts_the_run_with_exit_1_kills_the_children_and_keeps_whole_committed_batches()
    {
        var summaryPath = Path.Combine(_directory, "summary.json");
        string[] arguments = [EtlProcess.SampleDll, "--summary", summaryPath, "--input", Path.Combine(_directory, "orders.jsonl"), "--db", Db, "--joblog", JobLog, "--generate", "3000", "--inject", "hang:1", "--item-timeout", "60s"];

        var (exitCode, output) = await EtlProcess.RunAsync(
            _directory,
            TimeSpan.FromSeconds(60),
            // env restores SIGINT's default action before it runs dotnet: a test run started in the background of a
            // shell inherits SIGINT ignored, and .NET leaves an ignored SIGINT ignored (Ctrl+C would never arrive).
            "env",
            ["--default-signal=INT", "dotnet", .. arguments],
            onProgress: pid => Nursery.Tests.Support.Processes.Signal(pid, 2) // SIGINT, as Ctrl+C sends, once the run is under way
        );

        Assert.True(exitCode == 1, output);
        var summary = EtlProcess.ReadSummary(summaryPath)!;
        Assert.Equal("aborted", summary.Outcome);
        Assert.Contains("cancelled", summary.AbortReason);
        var (orders, rejects) = EtlProcess.CountRows(Db);
        Assert.Equal(summary.Succeeded, orders + rejects);
        Assert.Equal(summary.Succeeded, EtlProcess.EndLines(JobLog).Count(e => e.Value == "Succeeded"));
        await EtlProcess.AssertNoChildLeftAsync(summary);
    }

    [Theory]
    [InlineData("run.svg")]
    [InlineData("run.json")]
    public async Task The_timeline_option_writes_a_bar_per_attempt_with_the_injected_failure_among_them(string file)
    {
        var path = Path.Combine(_directory, file);

        var run = await RunAsync("--generate", "200", "--inject", "throw:1", "--policy", "skip", "--timeline", path);

        Assert.True(run.ExitCode == 0, run.Output);
        var text = await File.ReadAllTextAsync(path);
        // 200 items: parse attempts, convert and write attempts of the 199 that got through.
        var attempts = file.EndsWith(".svg", StringComparison.Ordinal)
            ? System.Xml.Linq.XDocument.Parse(text).Descendants().Count(e => e.Name.LocalName == "title")
            : System.Text.Json.JsonDocument.Parse(text).RootElement.GetProperty("traceEvents").EnumerateArray().Count(e => e.GetProperty("ph").GetString() == "X");
        Assert.Equal(200 + 199 + 199, attempts);
        Assert.Contains("Faulted", text, StringComparison.Ordinal);
        await EtlProcess.AssertNoChildLeftAsync(run.Summary!);
    }

    [Fact]
    public async Task Resume_processes_only_the_items_that_did_not_succeed()
    {
        var first = await RunAsync("--generate", "600", "--inject", "throw:4", "--policy", "skip");
        Assert.True(first.ExitCode == 0, first.Output);
        Assert.Equal(4, first.Summary!.Failed);
        Assert.Equal(596, EtlProcess.CountRows(Db) is var (o, r) ? o + r : 0);

        var second = await RunAsync("--resume");

        Assert.True(second.ExitCode == 0, second.Output);
        var summary = second.Summary!;
        Assert.Equal(4, summary.Inputs);
        Assert.Equal(596, summary.Resumed);
        Assert.Equal(4, summary.Succeeded);
        var (orders, rejects) = EtlProcess.CountRows(Db);
        Assert.Equal(600, orders + rejects);
        Assert.Equal(600, EtlProcess.EndLines(JobLog).Count(e => e.Value == "Succeeded"));
        await EtlProcess.AssertNoChildLeftAsync(summary);
    }

    [Fact]
    public async Task After_kill_9_and_resume_the_database_holds_every_input_exactly_once_and_no_written_item_runs_again()
    {
        const int total = 40_000;
        var random = new Random();
        var summaryPath = Path.Combine(_directory, "summary.json");
        string[] common = [EtlProcess.SampleDll, "--summary", summaryPath, "--input", Path.Combine(_directory, "orders.jsonl"), "--db", Db, "--joblog", JobLog];
        var notes = new List<string>();
        // Killed twice at random points (0–1.5 s after the first progress line), the second time while resuming.
        for (var round = 0; round < 2; round++)
        {
            var delay = TimeSpan.FromMilliseconds(random.Next(0, 1500));
            var children = new List<int>();
            Task? kill = null;
            var (exitCode, output) = await EtlProcess.RunAsync(
                _directory,
                TimeSpan.FromSeconds(90),
                "dotnet",
                [.. common, .. (round == 0 ? new[] { "--generate", total.ToString(System.Globalization.CultureInfo.InvariantCulture) } : ["--resume"])],
                onProgress: pid => kill = KillAfterAsync(pid, delay, children)
            );
            Assert.NotNull(kill);
            await kill.WaitAsync(TimeSpan.FromSeconds(10));
            Assert.True(exitCode == 128 + 9, $"round {round}: exit {exitCode}, not killed mid-run\n{output}");
            Assert.NotEmpty(children);
            foreach (var child in children)
                await Processes.AssertGoneAsync(child, TimeSpan.FromSeconds(5));
            var (orders, rejects) = EtlProcess.CountRows(Db);
            notes.Add($"round {round}: killed {delay.TotalMilliseconds} ms after the first progress line with {orders + rejects} rows");
        }
        var (ordersBefore, rejectsBefore) = EtlProcess.CountRows(Db);
        var written = ordersBefore + rejectsBefore;

        var last = await EtlProcess.RunSampleAsync(_directory, ["--input", Path.Combine(_directory, "orders.jsonl"), "--db", Db, "--joblog", JobLog, "--resume"]);

        Assert.True(last.ExitCode == 0, last.Output + string.Join('\n', notes));
        var summary = last.Summary!;
        // Every item with a row is skipped (its end line, or the database for an item in doubt); every other one runs.
        Assert.Equal(written, summary.Resumed);
        Assert.Equal(total - written, summary.Inputs);
        var (finalOrders, finalRejects) = EtlProcess.CountRows(Db);
        Assert.Equal(total, finalOrders + finalRejects);
        Assert.Equal(total, EtlProcess.DistinctLines(Db));
        Assert.Equal(total, EtlProcess.EndLines(JobLog).Count(e => e.Value == "Succeeded"));
        await EtlProcess.AssertNoChildLeftAsync(summary);
    }

    private static async Task KillAfterAsync(int pid, TimeSpan delay, List<int> children)
    {
        await Task.Delay(delay);
        children.AddRange(Processes.ChildrenOf(pid));
        Processes.Signal(pid, Processes.SigKill);
    }

    [Fact]
    public async Task The_convert_stage_runs_as_a_Python_worker_and_writes_the_same_rows_as_the_dotnet_one()
    {
        var dotnet = await RunAsync("--generate", "300");
        var dotnetRows = EtlProcess.ReadOrders(Db);

        var python = await RunAsync("--python");

        Assert.True(dotnet.ExitCode == 0, dotnet.Output);
        Assert.True(python.ExitCode == 0, python.Output);
        Assert.Equal(300, python.Summary!.Succeeded);
        var pythonRows = EtlProcess.ReadOrders(Db);
        Assert.True(pythonRows.Count > 280);
        Assert.Equal(dotnetRows, pythonRows);
        Assert.NotEmpty(python.Summary.ProcessIds["convert"]);
        await EtlProcess.AssertNoChildLeftAsync(python.Summary);
    }

    [Theory]
    [InlineData("--policy", "sometimes")]
    [InlineData("--inject", "explode:1")]
    [InlineData("--workers", "0")]
    [InlineData("--item-timeout", "soon")]
    [InlineData("--no-such-option")]
    [InlineData("--generate", "0")] // and the input file does not exist
    [InlineData("--timeline", "run.png")]
    public async Task A_usage_error_exits_2_and_starts_nothing(params string[] arguments)
    {
        var run = await RunAsync(["--generate", "10", .. arguments]);

        Assert.True(run.ExitCode == 2, run.Output);
        Assert.Contains("error", run.Output);
        Assert.Null(run.Summary);
    }

    [Theory]
    [InlineData("--memory-limit", "lots")]
    [InlineData("--workers", "abc")]
    [InlineData("--item-timeout", "soon")]
    [InlineData("--deadline", "x5")]
    public async Task A_value_that_does_not_parse_is_a_usage_error_naming_its_option_and_the_value(string option, string value)
    {
        var run = await RunAsync("--generate", "10", option, value);

        Assert.True(run.ExitCode == 2, run.Output);
        var error = run.Output.Split('\n').First(line => line.StartsWith("error", StringComparison.Ordinal));
        Assert.Contains(option, error, StringComparison.Ordinal);
        Assert.Contains(value, error, StringComparison.Ordinal);
    }
}
