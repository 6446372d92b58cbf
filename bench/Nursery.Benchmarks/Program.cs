using System.Diagnostics;
using System.Globalization;

namespace Nursery.Benchmarks;

/// <summary>
/// Measures what a Nursery worker costs: items/s with and without batching, MB/s, kill → failure latency, start-up.
/// <c>dotnet run -c Release --project bench/Nursery.Benchmarks -- [--quick] [--out docs/benchmarks.md]</c>.
/// Exits 0 when every row was measured without problems (or is reported as not measured on this machine, with why:
/// row 13c without GNU parallel) and every child pid is gone at the end.
/// </summary>
internal static class Program
{
    private const string Usage = "usage: dotnet run -c Release --project bench/Nursery.Benchmarks -- [--quick] [--rows 1a,7,13] [--out docs/benchmarks.md]";

    private static async Task<int> Main(string[] args)
    {
        // Row 12's measurement runs in a fresh process of this program, so its RSS is a pipeline's parent's alone.
        if (args is ["--streaming-probe", var count, var seconds])
            return await Flow.StreamingProbeAsync(long.Parse(count, CultureInfo.InvariantCulture), TimeSpan.FromSeconds(int.Parse(seconds, CultureInfo.InvariantCulture)));
        var quick = false;
        string? output = null;
        string[]? only = null;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--quick":
                    quick = true;
                    break;
                case "--rows" when i + 1 < args.Length:
                    only = args[++i].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                    break;
                case "--out" when i + 1 < args.Length:
                    output = args[++i];
                    break;
                default:
                    await Console.Error.WriteLineAsync(Usage);
                    return 2;
            }
        }

        var plan = quick ? Plan.Quick : Plan.Full;
        var progress = Console.Out;
        var started = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        var pids = new ChildPids();
        var loadBefore = MachineFacts.LoadAverage();
        var facts = await MachineFacts.ReadAsync(pids);
        await progress.WriteLineAsync($"Nursery benchmarks, {plan.Name} mode, {facts.Configuration} build, {facts.Cores} cores, load {loadBefore}");

        List<Row> rows = [];
        bool Wanted(string[] ids) => only is null || ids.Any(id => only.Any(token => id == token || (id.StartsWith(token, StringComparison.Ordinal) && char.IsLetter(id[token.Length]))));
        async Task Group(string name, string[] ids, Unit unit, Func<Task<IReadOnlyList<Row>>> measure)
        {
            if (Wanted(ids))
                rows.AddRange(await Measure(name, measure, ids, unit, progress));
        }

        await Group("trivial items (rows 1a–2)", ["1a", "1b", "1c", "2"], Unit.ItemsPerSecond, () => Throughput.TrivialAsync(plan, pids, progress));
        await Group("10 KiB echo (row 3)", ["3"], Unit.MegabytesPerSecond, async () => (IReadOnlyList<Row>)[await Throughput.EchoAsync(plan, pids, progress)]);
        await Group("SIGKILL → failure (row 4)", ["4"], Unit.Milliseconds, async () => (IReadOnlyList<Row>)[await KillLatency.RunAsync(plan, pids, progress)]);
        await Group("SIGKILL → next item in the replacement (rows 4b, 4c)", ["4b", "4c"], Unit.Milliseconds, () => Replacement.RunAsync(plan, pids, progress));
        await Group("start-up (rows 5a–5e)", ["5a", "5b", "5c", "5d", "5e"], Unit.Milliseconds, () => Startup.RunAsync(plan, pids, progress));
        var batched = rows.FirstOrDefault(row => row.Id == "1a") ?? Row.Failed("1a", "not run", Unit.ItemsPerSecond, "not run");
        await Group("in-process context (rows 6a–6c)", ["6a", "6b", "6c"], Unit.ItemsPerSecond, () => InProcess.RunAsync(plan, batched, progress));
        await Group("Python peers, WorkerPool and Dataflow stage, two workers (rows 7a–8d)", ["7a", "7b", "7c", "7d", "7e", "7f", "7g", "7h", "8a", "8b", "8c", "8d", "9"], Unit.ItemsPerSecond, () => Flow.PeersAsync(plan, pids, progress));
        await Group("Python workers through a Dataflow stage (rows 7i, 7j)", ["7i", "7j"], Unit.ItemsPerSecond, () => PythonWorkers.RunAsync(plan, rows.FirstOrDefault(row => row.Id == "7a"), pids, progress));
        await Group("a fresh stage's first items (row 7k)", ["7k"], Unit.Ratio, () => WarmUp.RunAsync(plan, pids, progress));
        await Group("fail fast (row 10)", ["10"], Unit.Milliseconds, () => Flow.FailFastAsync(plan, pids, progress));
        await Group("stage start → first result (row 11)", ["11"], Unit.Milliseconds, () => Flow.StageStartAsync(plan, pids, progress));
        await Group("parent memory while streaming (row 12)", ["12"], Unit.Mebibytes, () => Flow.StreamingMemoryAsync(plan, pids, progress));
        await Group("isolated properties (rows 14a–14c)", ["14a", "14b", "14c"], Unit.ItemsPerSecond, () => Properties.RunAsync(plan, pids, progress));
        await Group("command stages (rows 13a–13c)", ["13a", "13b", "13c"], Unit.ItemsPerSecond, () => Flow.CommandsAsync(plan, pids, progress));

        var check = await pids.CheckAsync(TimeSpan.FromSeconds(10));
        await progress.WriteLineAsync(check.Summary);
        var loadAfter = MachineFacts.LoadAverage();

        var command = "dotnet run -c Release --project bench/Nursery.Benchmarks --" + string.Concat(args.Select(argument => " " + argument));
        var notes = output is null ? "" : Report.ReadNotes(output);
        string? chart = null;
        if (output is not null)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output)) ?? ".");
            var png = Path.ChangeExtension(Path.GetFullPath(output), ".png");
            chart = Chart.Write(rows, png) is null ? null : Path.GetFileName(png);
        }
        var markdown = Report.Render(plan, rows, facts, check, command, started, clock.Elapsed, loadBefore, loadAfter, notes, chart);
        if (output is null)
        {
            await progress.WriteLineAsync();
            await progress.WriteAsync(markdown);
        }
        else
        {
            var directory = Path.GetDirectoryName(Path.GetFullPath(output));
            if (directory is not null)
                Directory.CreateDirectory(directory);
            await File.WriteAllTextAsync(output, markdown);
            await progress.WriteLineAsync($"wrote {Path.GetFullPath(output)}");
        }
        await progress.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"done in {clock.Elapsed.TotalSeconds:N1} s"));

        var clean = check.AllGone && rows.All(row => (row.Figures.IsSome || row.NotMeasured.Length > 0) && row.Problems.Count == 0);
        return clean ? 0 : 1;
    }

    /// <summary>Runs one group of rows; if it cannot be measured, its rows say why instead of stopping the harness.</summary>
    private static async Task<IReadOnlyList<Row>> Measure(string name, Func<Task<IReadOnlyList<Row>>> measure, string[] ids, Unit unit, TextWriter progress)
    {
        await progress.WriteLineAsync(name);
        try
        {
            return await measure();
        }
        catch (Exception exception) when (exception is BenchmarkException or TimeoutException)
        {
            await progress.WriteLineAsync($"  FAILED: {exception.Message}");
            return [.. ids.Select(id => Row.Failed(id, name, unit, exception.Message))];
        }
    }
}
