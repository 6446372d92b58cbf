using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Nursery;
using Nursery.Etl;
using Nursery.Etl.Bodies;
using Spectre.Console;

// orders.jsonl → parse/validate (.NET, child processes) → convert/enrich (.NET or Python, child processes) → SQLite.
//   dotnet run --project samples/Etl                       generate 20,000 orders and load them into etl-out/orders.db
//   dotnet run --project samples/Etl -- --inject kill:3 --policy retry      see a failure handled
// Exit codes: 0 the run completed (every order written, or skipped under --policy skip/retry), 1 aborted, 2 usage.

var input = new Option<string?>("--input", "-i") { Description = "The JSONL file of orders to load (default: etl-out/orders.jsonl, generated first)" };
var generate = new Option<int?>("--generate", "-g") { Description = "Write N realistic orders to the input file first (default 20000 when no --input is given)" };
var db = new Option<string>("--db") { Description = "The SQLite database to write", DefaultValueFactory = _ => "etl-out/orders.db" };
var workers = new Option<int>("--workers", "-w") { Description = "Child processes per stage", DefaultValueFactory = _ => 2 };
var memoryLimit = new Option<string?>("--memory-limit") { Description = "Memory limit per child, e.g. 256M, 1G (a memory cgroup; default none, 256M when oom is injected)" };
var itemTimeout = new Option<string?>("--item-timeout") { Description = "Kill a child whose item runs longer, e.g. 5s, 500ms (default none, 2s when hang is injected)" };
var deadline = new Option<string?>("--deadline") { Description = "Abort the whole run after this long, e.g. 30s, 5m" };
var policy = new Option<string>("--policy", "-p") { Description = "On a failed item: fail-fast (abort), retry (3 attempts for process failures, then skip), skip (record and go on)", DefaultValueFactory = _ => "fail-fast" };
policy.AcceptOnlyFromAmong("fail-fast", "retry", "skip");
var jobLog = new Option<string>("--joblog") { Description = "Job log (TSV, one line per attempt and per item's end)", DefaultValueFactory = _ => "etl-out/joblog.tsv" };
var resume = new Option<bool>("--resume") { Description = "Keep the database and job log; process only items the job log does not record as succeeded (items in doubt after a kill: those without a row)" };
var python = new Option<bool>("--python") { Description = "Run the convert stage as a Python persistent worker (convert.py, python3 stdlib only)" };
var inject = new Option<string>("--inject") { Description = "Faults the parse children inject: throw,kill,oom,hang,garbage as KIND:RATE (<1) or KIND:COUNT (>=1), and init-fail; e.g. throw:0.001,kill:2,init-fail", DefaultValueFactory = _ => "" };
var seed = new Option<int>("--seed") { Description = "Seed for the generated data and the injected faults", DefaultValueFactory = _ => 42 };
var timeline = new Option<string?>("--timeline") { Description = "Write the run's timeline here: a row per child, a bar per item attempt, coloured by outcome; run.svg (an image) or run.json (Chrome/Perfetto trace events)" };
var trace = new Option<string?>("--trace") { Description = "Write every span of the run (run, stages, item attempts) to FILE as JSON lines; - prints them with the console exporter" };
var summaryFile = new Option<string>("--summary") { Description = "Write a machine-readable summary (JSON) here", DefaultValueFactory = _ => "etl-out/summary.json" };

var root = new RootCommand("""
    Loads orders from a JSONL file into SQLite through supervised child processes: parse/validate and convert/enrich
    run in children, the writer commits batches in-process. Inject faults to see each one handled.

    Exit codes: 0 completed (every order is a row, or a failure skipped under --policy skip/retry),
                1 aborted (a failure under fail-fast, --deadline, Ctrl+C, a failed start), 2 usage error.
    Outputs go to etl-out/ by default. See docs/etl.md.
    """)
{
    input, generate, db, workers, memoryLimit, itemTimeout, deadline, policy, jobLog, resume, python, inject, seed, summaryFile, timeline,
};
root.Options.Add(trace);

var parsed = root.Parse(args);
if (parsed.Errors.Count > 0)
{
    foreach (var error in parsed.Errors)
        Console.Error.WriteLine($"error: {error.Message}");
    Console.Error.WriteLine("Try --help.");
    return 2;
}
if (parsed.Action is not null) // --help, --version
    return await parsed.InvokeAsync();

EtlSettings settings;
try
{
    settings = new EtlSettings
    {
        Input = parsed.GetValue(input) ?? "etl-out/orders.jsonl",
        // Under --resume the input is the one the earlier run read: it is never generated again.
        Generate = parsed.GetValue(generate) ?? (parsed.GetValue(input) is null && !parsed.GetValue(resume) ? 20_000 : 0),
        Database = parsed.GetValue(db)!,
        Workers = parsed.GetValue(workers) is var w and >= 1 ? w : throw new FormatException("--workers must be 1 or more"),
        MemoryLimit = Units.Bytes(parsed.GetValue(memoryLimit), "--memory-limit"),
        ItemTimeout = Units.Duration(parsed.GetValue(itemTimeout), "--item-timeout"),
        Deadline = Units.Duration(parsed.GetValue(deadline), "--deadline"),
        Policy = parsed.GetValue(policy)!,
        JobLog = parsed.GetValue(jobLog)!,
        Resume = parsed.GetValue(resume),
        Python = parsed.GetValue(python),
        Inject = parsed.GetValue(inject)!,
        Seed = parsed.GetValue(seed),
        SummaryFile = parsed.GetValue(summaryFile)!,
        Arguments = args,
        Timeline = parsed.GetValue(timeline),
    };
    if (settings.Timeline is { } timelinePath && Path.GetExtension(timelinePath) is not (".svg" or ".json"))
        throw new FormatException($"--timeline: '{timelinePath}' ends neither in .svg (an image) nor in .json (Chrome/Perfetto trace events)");
    if (settings.Resume && settings.Generate > 0 && File.Exists(settings.Input))
        throw new FormatException($"--generate would overwrite {settings.Input}, the input the run to resume read; drop --generate to resume it, or drop --resume to start again");
    if (settings.Generate < 0)
        throw new FormatException("--generate must be 0 or more");
    if (settings.Generate == 0 && !File.Exists(settings.Input))
        throw new FormatException(settings.Resume
            ? $"--resume: the input {settings.Input} does not exist (give the --input of the run to resume)"
            : $"--input: {settings.Input} does not exist (give --generate N to write it)");
    _ = Injection.Parse(settings.Inject, settings.Seed, 1, 0);
}
catch (FormatException exception)
{
    Console.Error.WriteLine($"error: {exception.Message}");
    Console.Error.WriteLine("Try --help.");
    return 2;
}

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true; // abort the run cleanly: children killed, committed batches kept
    cancel.Cancel();
};
using var tracing = parsed.GetValue(trace) is { } traceFile ? TraceFile.Start(traceFile) : null;
return await EtlRun.RunAsync(settings, cancel.Token);
