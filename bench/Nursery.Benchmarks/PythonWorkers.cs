using System.Diagnostics;
using System.Globalization;

namespace Nursery.Benchmarks;

/// <summary>
/// Rows 7i and 7j: the body of row 7a (<c>x*2</c> in Python) in persistent Python workers built on the shipped
/// nursery_worker.py, through the user-facing Dataflow path, with one and two workers; compared with row 7a's
/// <c>multiprocessing.Pool.map</c> from the same run of the harness.
/// </summary>
internal static class PythonWorkers
{
    private static readonly TimeSpan Bound = WorkerScope.Bound;

    public static async Task<IReadOnlyList<Row>> RunAsync(Plan plan, Row? peer, ChildPids pids, TextWriter progress)
    {
        var script = Path.Combine(AppContext.BaseDirectory, "python", "double.py");
        var one = new Runs();
        var two = new Runs();
        for (var run = -1; run < plan.Runs; run++)
        {
            var r1 = await StageAsync(script, 1, plan.FlowItems, pids);
            var r2 = await StageAsync(script, 2, plan.FlowItems, pids);
            if (run >= 0)
            {
                one.Add(r1);
                two.Add(r2);
            }
            await progress.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  Python workers, {(run < 0 ? "warm-up" : $"run {run + 1}/{plan.Runs}")}: ×1 {r1.Rate:N0}/s, ×2 {r2.Rate:N0}/s"));
        }
        var n = plan.FlowItems.ToString("N0", CultureInfo.InvariantCulture);
        var versus = peer is { Figures.IsSome: true } ? "; " + Throughput.Ratio("7j ÷ 7a", two.Rates.Median, peer.Median) : "; 7a was not measured in this run";
        return
        [
            one.Row("7i", $"Nursery `scope.CommandStage(Command.Python<int,int>(\"double.py\"), Workers = 1)` → `scope.Sink`: `x*2` in a persistent Python worker (`bench/python/double.py` on the shipped nursery_worker.py, NDJSON batches), {n} items/run (as 7a); timed from the first result at the sink to the last (worker start excluded, as 7a's pool is started before timing)", "reference for 7j"),
            two.Row("7j", "the same with `Workers = 2`", Throughput.Ratio("7j ÷ 7i", two.Rates.Median, one.Rates.Median) + versus),
        ];
    }

    private static async Task<Run> StageAsync(string script, int workers, int items, ChildPids pids)
    {
        long sum = 0;
        var seen = 0;
        long first = 0, last = 0;
        Snapshot? atFirst = null, atLast = null;
        await using var scope = new NurseryScope(new NurseryOptions { MaxRecords = 1000 });
        var stage = scope.CommandStage(Command.Python<int, int>(script), new StageOptions { Workers = workers, Name = "bench-python" });
        // The clock (and the CPU counters, from /proc) are read at the first and the last item only.
        var sink = scope.Sink<int>(x =>
        {
            if (seen++ == 0)
            {
                atFirst = Snapshot.Take(stage.ProcessIds);
                first = Stopwatch.GetTimestamp();
            }
            sum += x;
            if (seen == items)
            {
                last = Stopwatch.GetTimestamp();
                atLast = Snapshot.Take(stage.ProcessIds);
            }
        });
        stage.LinkTo(sink);
        var result = await scope.RunAsync(Enumerable.Range(0, items), stage).WaitAsync(Bound);
        foreach (var pid in stage.ProcessIds)
            pids.Track(pid);
        if (!result.Completed || sum != (long)items * (items - 1) || atFirst is null || atLast is null)
            throw new BenchmarkException($"the Python worker stage did not double every item: {result}");
        return new Run((items - 1) / Stopwatch.GetElapsedTime(first, last).TotalSeconds, items - 1, atFirst, atLast);
    }

    /// <summary>One timed run: items/s, and the counters at its first and last result.</summary>
    private sealed record Run(double Rate, int Items, Snapshot First, Snapshot Last)
    {
        public double ParentMicroseconds => (Last.ParentSeconds - First.ParentSeconds) / Items * 1e6;

        /// <summary>The workers' CPU; a worker that started after the first result counts from its start.</summary>
        public double ChildMicroseconds => Last.Children.Sum(pair => pair.Value.Seconds - (First.Children.TryGetValue(pair.Key, out var before) ? before.Seconds : 0)) / Items * 1e6;

        public double ParentItemsPerWrite => Items / (Last.ParentWrites - First.ParentWrites);

        public double ChildItemsPerWrite => Items / Last.Children.Sum(pair => pair.Value.Writes - (First.Children.TryGetValue(pair.Key, out var before) ? before.Writes : 0));
    }

    private sealed class Runs
    {
        private readonly List<Run> _runs = [];

        public Sample Rates => new(_runs.Select(run => run.Rate));

        public void Add(Run run) => _runs.Add(run);

        public Row Row(string id, string workload, string ratio) =>
            global::Nursery.Benchmarks.Row.Measured(id, workload, Rates, Unit.ItemsPerSecond, ratio) with
            {
                CpuPerItem = string.Create(CultureInfo.InvariantCulture, $"{new Sample(_runs.Select(run => run.ParentMicroseconds)).Median:N2} / {new Sample(_runs.Select(run => run.ChildMicroseconds)).Median:N2}"),
                ItemsPerWrite = string.Create(CultureInfo.InvariantCulture, $"{new Sample(_runs.Select(run => run.ParentItemsPerWrite)).Median:N1} / {new Sample(_runs.Select(run => run.ChildItemsPerWrite)).Median:N1}"),
            };
    }

    /// <summary>
    /// CPU seconds and write(2) calls of this process and of each worker. A worker's pid is its launcher's keeper (a
    /// small sh); python3 is the keeper's child, so each worker counts its process and its children.
    /// </summary>
    private sealed record Snapshot(double ParentSeconds, double ParentWrites, IReadOnlyDictionary<int, (double Seconds, double Writes)> Children)
    {
        public static Snapshot Take(IReadOnlyCollection<int> workers)
        {
            using var self = Process.GetCurrentProcess();
            var children = new Dictionary<int, (double, double)>();
            foreach (var worker in workers)
            {
                var tree = new[] { worker }.Concat(ChildrenOf(worker)).ToArray();
                children[worker] = (tree.Sum(Seconds), tree.Sum(pid => Writes(pid.ToString(CultureInfo.InvariantCulture))));
            }
            return new Snapshot(self.TotalProcessorTime.TotalSeconds, Writes("self"), children);
        }

        private static int[] ChildrenOf(int pid)
        {
            try
            {
                return File.ReadAllText($"/proc/{pid}/task/{pid}/children").Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(text => int.Parse(text, CultureInfo.InvariantCulture)).ToArray();
            }
            catch (IOException)
            {
                return [];
            }
        }

        private static double Seconds(int pid)
        {
            try
            {
                var stat = File.ReadAllText($"/proc/{pid}/stat");
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
            }
            catch (IOException)
            {
                return 0;
            }
        }

        private static double Writes(string pid)
        {
            try
            {
                var line = File.ReadLines($"/proc/{pid}/io").FirstOrDefault(text => text.StartsWith("syscw:", StringComparison.Ordinal));
                return line is null ? 0 : double.Parse(line["syscw:".Length..].Trim(), CultureInfo.InvariantCulture);
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                return 0;
            }
        }
    }
}
