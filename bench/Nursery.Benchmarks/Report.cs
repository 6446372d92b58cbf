using System.Globalization;
using System.Text;

namespace Nursery.Benchmarks;

/// <summary>Writes the results as Markdown. Everything below <see cref="NotesMarker"/> in an existing file is hand-written and kept.</summary>
internal static class Report
{
    public const string NotesMarker = "<!-- Hand-written notes below this line are kept when the harness rewrites this file. -->";

    private static readonly Dictionary<string, string> Limits = new()
    {
        ["1a"] =
            "Per-item CPU on both sides, shared by the parent, the child and the harness's loop on 2 cores: in the parent a Task, a TaskCompletionSource and an Either per call, a JSON encode of the input and a decode of the result, the in-flight book (a ring in send order) under a lock; in the child (a receiver thread reading frames with blocking reads, the main thread running items) the request read into a pooled buffer, an integer parsed and its digits written. Frames carry up to 1,024 items, so the pipe's system calls are amortised over many items.",
        ["1b"] = "One frame, one write + flush and one read system call per item in each direction; the child still batches its replies (up to 256 per frame while more requests are queued), so only the request side is unbatched.",
        ["1c"] = "A full pipe round trip per item: wake the writer, write, wake the child, run, write the reply, wake the reader, complete the task, wake the awaiting continuation: several context switches per item, no batching possible.",
        ["2"] =
            "The parent, two children and the harness's loop share 2 cores: a second worker helps only as far as one worker left a core idle (the parent waiting for a reply frame, the child for a request frame); the CPU column says how busy both cores were.",
        ["3"] =
            "JSON encode and decode of the string on both sides (6c measures that alone, in one thread), copying each 10 KiB into and out of frame buffers (the child reads a request frame straight into a pooled buffer), allocating the result strings (the GC clearing memory), and the pipes, which the child host grows from the kernel's 64 KiB to 1 MiB, so a frame of a hundred 10 KiB items crosses in a couple of write(2) calls instead of blocking the writer every 64 KiB.",
        ["4"] =
            "The path is: the kernel ends the child and closes its pipes, the parent's stdout reader sees end of file, Nursery reads the zombie's wait status from /proc (128 + 9) once its stderr has ended, classifies it and fails the item in flight, and the awaiting code resumes on the thread pool. When the runtime's SIGCHLD handling has reaped the child first (about half the kills on a loaded machine), the end waits instead for CliWrap to report the exit (the runtime's exit notification on the thread pool, then the pipes). Nothing polls, so the 250 ms watchdog tick does not enter into it.",
        ["4b"] =
            "A fresh start: the parent sees the child end (row 4's path: end of file on its stdout, the exit status read and classified), the items the dead child held but had not started are sent again, the slot's replacement is spawned (row 5a: a `dotnet` start, the body loaded, Ready) and then runs the item.",
        ["4c"] =
            "Row 4's path to the dead child's end: the kill reaching the child and the parent's reader waking at end of file (most of the figure on a loaded machine), the exit status read while the child is a zombie, or, when the runtime reaped it first, CliWrap's report of the exit; the items it had not started are then failed as not started and the re-sent item goes to the ready spare: one frame, the spare's receiver and serving threads waking (each waits for a core on a loaded machine), and the first item's path in a child that has compiled the body while idle (no JIT of the body left, only the first call's cold runtime paths).",
        ["7k"] =
            "The parent's and the children's CPU per item, both higher over the first items: in the fresh children the hot loops run precompiled (ReadyToRun) or tier-0 code until the tiered JIT has recompiled them, which starts after a call-counting delay and runs on a background thread that competes for the same 2 cores; generic code over the host's own types from the framework (queues, dictionaries) cannot be precompiled into the host's image. In the parent, the new pool's batch sizer starts with batches of one item until it has timed a batch.",
        ["5a"] =
            "The child's runtime start (5d is the floor for any `dotnet x.dll`), what the child host does before its first write (5e − 5d), then reading the Init (written with the spawn, so it is waiting), starting its receiver and heartbeat threads (about a millisecond each in a fresh process), loading the body's assembly in an AssemblyLoadContext (its deps.json read only if a dependency must be resolved) and taking the method from its metadata token (the same build as the parent's: no names compared), mapping the progress slot with mmap, and Ready; the parent spawns through CliWrap on its spawner thread.",
        ["5b"] = "The first item's cold path: for int, long, double, bool and string the invoker and the JSON codec's methods are precompiled (ReadyToRun), and the codec has run once over default values right after Ready, so what is left is the body's own JIT and a round trip; other types pay the JIT of the invoker and codec for them and, for types the codec does not write itself, System.Text.Json's metadata (built by the host's warm-up thread meanwhile); and in the parent the first decode of that type.",
        ["5c"] = "The child exits at stdin end of file; the parent waits for the exit to be observed and the pipes drained.",
        ["5d"] = "The `dotnet` muxer resolving the framework, hostfxr/hostpolicy reading runtimeconfig.json and deps.json, and the runtime starting: the floor under every .NET child.",
        ["5e"] =
            "5d plus what the child host does before its first write: loading Nursery.Core and System.Text.Json and the first (cold) JSON serialisation, of the Hello message.",
        ["6a"] = "A delegate call the JIT may even devirtualise and inline with PGO; it shows how much of 1a is the cost of crossing processes.",
        ["6b"] = "System.Text.Json (de)serialising an int four times, on one thread: the codec's share of an item's cost, split between two processes in 1a.",
        ["6c"] = "System.Text.Json copying and validating 10 KiB of UTF-8 four times, on one thread.",
        ["7a"] = "Python pickles a chunk of 64 ints as one task message: per-item cost is a few hundred nanoseconds of pickling and the map loop; the workers' `x*2` is negligible.",
        ["7e"] = "The same per-call costs as 1a, spread over two children (least-busy dispatch under the pool's lock); the parent's thread(s) feeding 8,192 calls in flight share the 2 cores with both children.",
        ["7f"] = "Each run is a new scope, so its two children are fresh: their first hundreds of thousands of items run partly in unoptimised (tier-0) code, which a warm pool (7e, 7h) no longer pays. The stage takes what is queued at its input and sends it to the children in batches (sized by the batch sizer for about 2 ms of work, at most ItemsPerWorker / 2 = 512 items, two batches per child): one pool call and one completion per batch, not per item. Between the scope's blocks items are handed over an array at a time (the feed's chunks, each batch's outputs into the sink's queue), so per item remain the Item<T> and its key, the codec on both sides, the sink's action and the ledger's books; per batch a few thread-pool hand-offs, on 2 cores shared with both children.",
        ["7h"] = "The pool's own batching (as the stage's, without Dataflow): per item only the codec, the in-flight books in the worker and the result array; per batch a pool lease, one frame each way and one task completion.",
        ["8c"] = "As 8a, batched: the parent's per-call costs go; the JSON encoding and decoding of 10 KiB strings on both sides, and copying them through frames, remain.",
        ["8d"] = "MessagePack writes a string as its UTF-8 bytes with a length, so encoding is a transcode and decoding a transcode back, without JSON's scan for characters to escape and its validation; with the pipes grown to 1 MiB the codec is a limit again, so 8d ÷ 8c is roughly the codec's share; the frames' copies and the pipe's remain.",
        ["8a"] = "As row 3, with two children; the parent encodes and decodes every 10 KiB string as JSON and copies it through frame buffers, on a core it shares with both children.",
        ["9"] = "Dataflow's own per-item cost: a queue hop and a task continuation per block, no serialisation.",
        ["10"] = "The child's exception travels back as a Faulted reply; the stage fails fast, the scope cancels, every child is SIGKILLed through its process group (grace 0) and seen exiting (CliWrap's own kill, a walk of /proc after which alone CliWrap reports the exit, is held back unless the exit is not seen within a second), then RunAsync returns. The failing item is early, so the child's error path (a stack trace with file and line) is usually still cold. Includes how long an idle core takes to be scheduled on a loaded machine.",
        ["11"] = "Two child hosts started at once on 2 cores (5a each, in parallel, with the parent's own work on the same cores), then the first item's cold path (5b). The children's CPU after their hello (their threads, the body's load context and assembly, the invoker, the first item) is what 11 adds to 5d. The ratio is against raw starts measured between these repetitions, not against 5d's own group minutes earlier.",
        ["12"] = "The source is read lazily with backpressure and every block is bounded, so memory does not grow with N; what remains is the runtime, the loaded assemblies and JIT code, the GC's heap for the bounded buffers, and the ledger's first MaxRecords records (1,000 here).",
        ["13a"] = "A process per item, started with one exec as xargs does: the parent calls `posix_spawn` itself (a session of its own, pipes for stdin, stdout and stderr), registers the program's group with its one orphan guard `sh` (a line on a pipe before and after), and reaps it through a pidfd on one epoll thread. Not yet profiled on this path; what the parent does per item beyond xargs: its three pipe ends registered with the runtime's socket engine (epoll) and read and written there, the thread-pool hand-offs from the exit to the stage's result, the environment copied for each item, and the guard woken twice per item; the two workers spawn from their own threads in parallel.",
        ["7i"] = "Batches of NDJSON: the worker offers the batch form in its ready line, the stage sends it batches of consecutive items (sized for about 2 ms of work, up to 512) as one line each, and the helper answers each batch with one line in one write. Per item in Python: json.loads of the item, the handler call, json encoding of the result (CPU column: child); in the parent: the stage path as in 7f, the item's digits written, and its result read with a Utf8JsonReader and decoded from a slice of the line. With one worker, the parent and the worker run on a core each; with two, the parent and both workers share the 2 cores, so 7j ÷ 7i is bounded by 2 × the larger CPU per item over the sum of both (the CPU column).",
        ["14b"] = "14c plus the child's start (5a) and its reaping at the end of the run, spread over the run's cases.",
        ["14c"] = "One case at a time, as FsCheck runs them: a full pipe round trip per case (as row 1c: no batching is possible, the next input is generated only after this case's assertion), the JSON codec on both sides, and the thread that runs FsCheck blocking on each case; FsCheck's generation and the assertion cost the same as in 14a.",
    };

    public static string Render(Plan plan, IReadOnlyList<Row> rows, MachineFacts facts, PidCheck pids, string command, DateTimeOffset started, TimeSpan duration, string loadBefore, string loadAfter, string notes, string? chart = null)
    {
        var text = new StringBuilder();
        var line = (string value) => text.Append(value).Append('\n');
        line("# Nursery benchmarks");
        line("");
        line("Written by the harness in `bench/Nursery.Benchmarks` (see `bench/README.md`). The table and the facts are regenerated on every run; do not edit them by hand.");
        line("");
        if (plan.Name != "full")
            line($"**These figures come from the `{plan.Name}` mode (few runs, small N): a smoke test, not figures to quote.**\n");
        line("```");
        line(command);
        line("```");
        line("");
        line($"- Date: {started.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)} UTC; the harness ran for {duration.TotalSeconds.ToString("N0", CultureInfo.InvariantCulture)} s");
        line($"- Mode: {plan.Name} ({plan.Runs} timed runs per throughput row after one untimed warm-up run; {plan.KillRepetitions} kills; {plan.StartRepetitions} starts)");
        line($"- Commit: {facts.Commit}; build: {facts.Configuration}");
        line($"- Machine: {facts.Cores} logical cores ({facts.Cpu}), {facts.Memory} RAM, kernel {facts.Kernel}, {facts.Os}");
        line($"- .NET: `dotnet --version` {facts.DotnetVersion}; runtime {facts.Runtime}");
        line($"- Load average (/proc/loadavg) before: {loadBefore}; after: {loadAfter}. The machine is shared with other builds and test runs, so the figures are noisy: compare ratios within one file, not numbers across files.");
        line($"- Child processes: {pids.Summary}");
        line("");
        if (chart is not null)
        {
            line($"![Throughput rows, items/s on a log scale]({chart})");
            line("");
        }
        line("| # | workload | median [min–max] | p90 | unit | n | ratio | CPU µs/item, parent / child | items per write(2), parent / child | parent GCs per 1,000 items, gen 0 / 1 / 2 |");
        line("|---|---|---|---|---|---|---|---|---|---|");
        foreach (var row in rows)
        {
            var (figures, p90, count) = row.Figures.Match(
                sample => ($"{Format(sample.Median, row.Unit)} [{Format(sample.Min, row.Unit)}–{Format(sample.Max, row.Unit)}]", row.Unit == Unit.Milliseconds ? Format(sample.P90, row.Unit) : "", sample.Count.ToString(CultureInfo.InvariantCulture)),
                () => (row.NotMeasured.Length > 0 ? $"not measured: {row.NotMeasured}" : "not measured", "", "0")
            );
            var problems = row.Problems.Count == 0 ? "" : $" ⚠ {row.Problems.Count} problem(s), see below";
            line($"| {row.Id} | {Escape(row.Workload)} | {figures} | {p90} | {UnitName(row.Unit)} | {count} | {row.Ratio}{problems} | {row.CpuPerItem} | {row.ItemsPerWrite} | {row.ParentCollections} |");
        }
        line("");
        line("Ratios are of medians from this run. n is the number of timed runs (throughput) or repetitions (latency). CPU µs/item is the median over the timed runs of the CPU time used during a run divided by its items: parent = this whole process (the harness's loop included, from getrusage), child = the worker process(es) (utime + stime from /proc, 10 ms ticks). Parent + child near 2 × 1,000,000 ÷ (items/s) means both cores were busy. Items per write(2) is items ÷ write system calls during a run (syscw in /proc/pid/io): in the parent about the items per request frame (plus a few console lines), in the child about the items per reply frame (plus two heartbeats a second). Parent GCs are GC.CollectionCount deltas (the child's are not visible from outside).");
        var withProblems = rows.Where(row => row.Problems.Count > 0).ToArray();
        if (withProblems.Length > 0)
        {
            line("");
            line("## Problems seen during this run");
            line("");
            foreach (var row in withProblems)
            {
                foreach (var problem in row.Problems)
                    line($"- {row.Id}: {Escape(problem)}");
            }
        }
        line("");
        line("## What limits each figure");
        line("");
        foreach (var row in rows)
        {
            if (Limits.TryGetValue(row.Id, out var limit))
                line($"- **{row.Id}**: {limit}");
        }
        line("");
        line(NotesMarker);
        text.Append(notes);
        return text.ToString();
    }

    /// <summary>The hand-written part of an existing report (everything after the marker), or nothing.</summary>
    public static string ReadNotes(string path)
    {
        if (!File.Exists(path))
            return "";
        var existing = File.ReadAllText(path);
        var at = existing.IndexOf(NotesMarker, StringComparison.Ordinal);
        return at < 0 ? "" : existing[(at + NotesMarker.Length)..].TrimStart('\n');
    }

    private static string Format(double value, Unit unit) =>
        unit switch
        {
            Unit.ItemsPerSecond => value.ToString("N0", CultureInfo.InvariantCulture),
            Unit.MegabytesPerSecond => value.ToString("N1", CultureInfo.InvariantCulture),
            Unit.Mebibytes => value.ToString("N0", CultureInfo.InvariantCulture),
            _ => value.ToString("N2", CultureInfo.InvariantCulture),
        };

    private static string UnitName(Unit unit) =>
        unit switch
        {
            Unit.ItemsPerSecond => "items/s",
            Unit.MegabytesPerSecond => "MB/s",
            Unit.Mebibytes => "MiB",
            Unit.Ratio => "×",
            _ => "ms",
        };

    private static string Escape(string text) => text.Replace("|", "\\|", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);
}
