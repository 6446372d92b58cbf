using System.Globalization;
using System.Text.Json;
using Nursery.Etl.Bodies;
using Spectre.Console;

namespace Nursery.Etl;

/// <summary>One run of the ETL job: build the pipeline, run it with a progress display, write the summary.</summary>
internal static class EtlRun
{
    private const int BatchSize = 500;
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static async Task<int> RunAsync(EtlSettings settings, CancellationToken cancellationToken)
    {
        if (settings.Generate > 0)
        {
            Console.WriteLine($"generating {settings.Generate:N0} orders into {settings.Input}");
            Generator.Write(settings.Input, settings.Generate, settings.Seed);
        }
        var total = File.ReadLines(settings.Input).LongCount();
        var plan = Injection.Parse(settings.Inject, settings.Seed, total, 0);
        // A fault needs its limit to be caught: oom needs a memory limit, hang an item deadline. Give sensible ones.
        var memoryLimit = settings.MemoryLimit > 0 ? settings.MemoryLimit : Injection.Has(plan, "oom") ? 256L << 20 : 0;
        var itemTimeout = settings.ItemTimeout != Timeout.InfiniteTimeSpan ? settings.ItemTimeout : Injection.Has(plan, "hang") ? TimeSpan.FromSeconds(2) : Timeout.InfiniteTimeSpan;
        // Transient faults remember the items they hit in marker files kept with the database, so a resumed run does
        // not hit them again; a fresh run starts without them.
        var markers = settings.Database + ".faults";
        if (!settings.Resume && Directory.Exists(markers))
            Directory.Delete(markers, recursive: true);
        Directory.CreateDirectory(markers);
        plan = plan with { MemoryLimitBytes = memoryLimit, MarkerDirectory = Path.GetFullPath(markers) };
        return await RunAsync(settings, plan, total, memoryLimit, itemTimeout, cancellationToken);
    }

    private static async Task<int> RunAsync(EtlSettings settings, FaultPlan plan, long total, long memoryLimit, TimeSpan itemTimeout, CancellationToken cancellationToken)
    {

        if (!settings.Resume)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(settings.JobLog))!);
            if (File.Exists(settings.JobLog))
                File.WriteAllText(settings.JobLog, ""); // emptied, not deleted: the path may be a pipe or /dev/null
        }
        // On --resume, the database is the truth for the items the job log leaves in doubt (the parent was killed
        // between a batch's commit and its end lines): a line with a row is done.
        var written = settings.Resume && File.Exists(settings.Database) ? OrderDatabase.Lines(settings.Database) : [];
        string[] stages = ["parse", "convert", "write"];
        var display = new Display(total, stages);
        var options = new NurseryOptions
        {
            DefaultPolicy = settings.Policy switch
            {
                "retry" => Policy.Retry(3).ThenSkip(),
                "skip" => Policy.Skip,
                _ => Policy.FailFast,
            },
            Deadline = settings.Deadline,
            JobLog = settings.JobLog,
            Resume = settings.Resume,
            ResumeInDoubt = key => written.Contains(long.Parse(key, CultureInfo.InvariantCulture) + 1),
            Progress = display,
            ProgressInterval = TimeSpan.FromMilliseconds(200),
        };
        // Restart intensity: a child killed per item is this sample's demonstration, not a broken stage; a failing initializer
        // still fails the stage at once (failed starts in a row).
        var stageOptions = new StageOptions
        {
            Workers = settings.Workers,
            Worker = new WorkerOptions { ItemTimeout = itemTimeout, MemoryLimit = memoryLimit > 0 ? memoryLimit : null },
            RestartIntensity = new RestartIntensity(20, TimeSpan.FromSeconds(10)),
        };

        Console.WriteLine(
            $"{settings.Input} ({total:N0} lines) → parse ×{settings.Workers} → convert ×{settings.Workers}{(settings.Python ? " (python)" : "")} → {settings.Database}; policy {settings.Policy}"
                + (settings.Inject.Length > 0 ? $"; injecting {settings.Inject}" : "")
                + (settings.Resume ? "; resuming" : "")
        );
        await using var database = OrderDatabase.Open(settings.Database, fresh: !settings.Resume, BatchSize);
        PipelineResult result;
        Dictionary<string, int[]> pids;
        await using (var scope = new NurseryScope(options))
        {
            var parse = scope.Stage(Body.From<Line, Parsed>(Orders.Parse).WithInitializer<FaultPlan>(Orders.Initialize, plan), stageOptions with { Name = "parse" });
            var convert = settings.Python
                ? scope.CommandStage(Command.Python<Parsed, Row>(Path.Combine(AppContext.BaseDirectory, "convert.py")), stageOptions with { Name = "convert", Worker = stageOptions.Worker with { MemoryLimit = null } })
                : scope.Stage<Parsed, Row>(Orders.Convert, stageOptions with { Name = "convert" });
            var write = scope.Sink<Row>(database.WriteAsync, new SinkOptions { Name = "write", Parallelism = BatchSize, BoundedCapacity = 2 * BatchSize });
            parse.LinkTo(convert);
            convert.LinkTo(write);

            var lines = File.ReadLines(settings.Input).Select((text, index) => new Line(index, text));
            var run = scope.RunAsync(lines, parse, line => line.Index.ToString(CultureInfo.InvariantCulture), cancellationToken);
            await display.ShowAsync(run);
            result = await run;
            pids = new Dictionary<string, int[]> { ["parse"] = [.. parse.ProcessIds], ["convert"] = [.. convert.ProcessIds] };
        }
        var batches = database.Batches;
        await database.DisposeAsync();
        var (orderRows, rejectRows) = OrderDatabase.Count(settings.Database);

        var exitCode = result.Completed ? 0 : 1;
        Report(result, orderRows, rejectRows, batches, settings);
        var summary = new Summary
        {
            Outcome = result.Completed ? "completed" : "aborted",
            ExitCode = exitCode,
            Input = Path.GetFullPath(settings.Input),
            Database = Path.GetFullPath(settings.Database),
            JobLog = Path.GetFullPath(settings.JobLog),
            Policy = settings.Policy,
            Inputs = result.Inputs,
            Succeeded = result.Succeeded,
            Failed = result.Failed,
            Resumed = result.Resumed,
            OrderRows = orderRows,
            RejectRows = rejectRows,
            Batches = batches,
            FailedByKind = result.CountsByKind,
            Stages = display.Latest.Stages,
            ProcessIds = pids,
            Seconds = Math.Round(result.Elapsed.TotalSeconds, 3),
            AbortReason = result.AbortReason,
            FirstFailure = result.FirstFailure.Match(f => f.ToString(), () => ""),
        };
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(settings.SummaryFile))!);
        await File.WriteAllTextAsync(settings.SummaryFile, JsonSerializer.Serialize(summary, Indented), CancellationToken.None);
        await WriteFailuresAsync(result, FailuresFile(settings));
        if (settings.Timeline is { } timeline)
        {
            await Timeline.WriteAsync(result, timeline, CancellationToken.None);
            Console.WriteLine($"Timeline of {result.Records.Count:N0} attempts: {timeline}");
        }
        return exitCode;
    }

    /// <summary>Every failed item's full report, one JSON object a line, next to the summary.</summary>
    private static string FailuresFile(EtlSettings settings) => Path.Combine(Path.GetDirectoryName(Path.GetFullPath(settings.SummaryFile))!, "failures.jsonl");

    private static async Task WriteFailuresAsync(PipelineResult result, string path)
    {
        await using var writer = new StreamWriter(path);
        foreach (var failure in result.Failures)
        {
            var line = new FailureLine(failure.Stage, failure.Key, failure.Kind.ToString(), failure.Attempt, failure.ProcessId, failure.Summary, failure.ToString());
            await writer.WriteLineAsync(JsonSerializer.Serialize(line));
        }
    }

    /// <summary>One line of failures.jsonl.</summary>
    private sealed record FailureLine(string Stage, string Key, string Kind, int Attempt, int ProcessId, string Summary, string Report);

    /// <summary>
    /// The command that resumes this run: the same options without <c>--generate</c> (the input stays as it is), with
    /// <c>--resume</c>.
    /// </summary>
    internal static string ResumeCommand(IReadOnlyList<string> arguments)
    {
        var kept = new List<string>();
        for (var i = 0; i < arguments.Count; i++)
        {
            var argument = arguments[i];
            if (argument is "--generate" or "-g")
            {
                i++;
                continue;
            }
            if (argument.StartsWith("--generate=", StringComparison.Ordinal) || argument == "--resume")
                continue;
            kept.Add(argument);
        }
        kept.Add("--resume");
        var start = File.Exists(Path.Combine("samples", "Etl", "Etl.csproj"))
            ? "dotnet run --project samples/Etl --"
            : $"dotnet {Quote(typeof(EtlRun).Assembly.Location)}";
        return $"{start} {string.Join(' ', kept.Select(Quote))}";
    }

    private static string Quote(string argument) =>
        argument.Length > 0 && argument.All(c => char.IsAsciiLetterOrDigit(c) || "-_./:=,@+".Contains(c)) ? argument : $"'{argument.Replace("'", "'\\''", StringComparison.Ordinal)}'";

    private static void Report(PipelineResult result, long orderRows, long rejectRows, long batches, EtlSettings settings)
    {
        var table = new Table().Border(TableBorder.Rounded).AddColumn("").AddColumn(new TableColumn("").RightAligned()).HideHeaders();
        table.Title(result.Completed ? "[green]completed[/]" : "[red]aborted[/]");
        void Add(string name, string value) => table.AddRow(new Text(name), new Text(value));
        Add("items read", result.Inputs.ToString("N0", CultureInfo.InvariantCulture));
        if (result.Resumed > 0)
            Add("skipped (done in an earlier run)", result.Resumed.ToString("N0", CultureInfo.InvariantCulture));
        Add("written", result.Succeeded.ToString("N0", CultureInfo.InvariantCulture));
        Add("failed", result.Failed.ToString("N0", CultureInfo.InvariantCulture));
        foreach (var (kind, count) in result.CountsByKind.Where(k => k.Value > 0))
            Add($"  {kind}", count.ToString("N0", CultureInfo.InvariantCulture));
        Add("orders table / rejects table", $"{orderRows:N0} / {rejectRows:N0}");
        Add("transactions committed", batches.ToString("N0", CultureInfo.InvariantCulture));
        Add("time", $"{result.Elapsed.TotalSeconds:F2} s ({(result.Inputs > 0 ? result.Inputs / result.Elapsed.TotalSeconds : 0):N0} items/s)");
        Add("database", settings.Database);
        Add("job log", settings.JobLog);
        AnsiConsole.Write(table);
        if (result.Aborted)
        {
            Console.WriteLine($"aborted: {result.AbortReason}");
            result.FirstFailure.IfSome(failure => Console.WriteLine(failure.ToString()));
            Console.WriteLine($"The batches committed before the abort are kept ({orderRows + rejectRows:N0} rows). To do the rest:");
            Console.WriteLine($"  {ResumeCommand(settings.Arguments)}");
        }
        else if (result.Failed > 0)
        {
            Console.WriteLine($"{result.Failed:N0} item(s) failed and were skipped (policy {settings.Policy}); the first:");
            result.FirstFailure.IfSome(failure => Console.WriteLine(failure.ToString()));
            Console.WriteLine("Fix the cause, then process only those:");
            Console.WriteLine($"  {ResumeCommand(settings.Arguments)}");
        }
        if (result.Failed > 0)
            Console.WriteLine($"Every failure's report (the child's stack trace included): {Path.GetRelativePath(Environment.CurrentDirectory, FailuresFile(settings))}");
    }
}
