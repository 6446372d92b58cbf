using System.Diagnostics;
using System.Globalization;

namespace Nursery.Benchmarks;

/// <summary>
/// Measures what a Nursery worker costs: items/s with and without batching, MB/s, kill → failure latency, start-up.
/// <c>dotnet run -c Release --project bench/Nursery.Benchmarks -- [--quick] [--out docs/benchmarks.md]</c>.
/// Exits 0 when every row was measured without problems and every child pid is gone at the end.
/// </summary>
internal static class Program
{
    private const string Usage = "usage: dotnet run -c Release --project bench/Nursery.Benchmarks -- [--quick] [--out docs/benchmarks.md]";

    private static async Task<int> Main(string[] args)
    {
        var quick = false;
        string? output = null;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--quick":
                    quick = true;
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
        rows.AddRange(await Measure("trivial items (rows 1a–2)", () => Throughput.TrivialAsync(plan, pids, progress), ["1a", "1b", "1c", "2"], Unit.ItemsPerSecond, progress));
        rows.AddRange(await Measure("10 KiB echo (row 3)", async () => (IReadOnlyList<Row>)[await Throughput.EchoAsync(plan, pids, progress)], ["3"], Unit.MegabytesPerSecond, progress));
        rows.AddRange(await Measure("SIGKILL → failure (row 4)", async () => (IReadOnlyList<Row>)[await KillLatency.RunAsync(plan, pids, progress)], ["4"], Unit.Milliseconds, progress));
        rows.AddRange(await Measure("start-up (rows 5a–5e)", () => Startup.RunAsync(plan, pids, progress), ["5a", "5b", "5c", "5d", "5e"], Unit.Milliseconds, progress));
        var batched = rows.First(row => row.Id == "1a");
        rows.AddRange(await Measure("in-process context (rows 6a–6c)", () => InProcess.RunAsync(plan, batched, progress), ["6a", "6b", "6c"], Unit.ItemsPerSecond, progress));

        var check = await pids.CheckAsync(TimeSpan.FromSeconds(10));
        await progress.WriteLineAsync(check.Summary);
        var loadAfter = MachineFacts.LoadAverage();

        var command = "dotnet run -c Release --project bench/Nursery.Benchmarks --" + string.Concat(args.Select(argument => " " + argument));
        var notes = output is null ? "" : Report.ReadNotes(output);
        var markdown = Report.Render(plan, rows, facts, check, command, started, clock.Elapsed, loadBefore, loadAfter, notes);
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

        var clean = check.AllGone && rows.All(row => row.Figures.IsSome && row.Problems.Count == 0);
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
