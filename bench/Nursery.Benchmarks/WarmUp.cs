using System.Diagnostics;
using System.Globalization;

namespace Nursery.Benchmarks;

/// <summary>
/// Row 7k: how much slower a fresh stage's children are over their first items. A new scope per run, a 2-worker
/// identity stage → sink; the rate over the first <see cref="Plan.WarmUpHead"/> results against the rate over the rest,
/// both timed at the sink from the first result on.
/// </summary>
internal static class WarmUp
{
    public static async Task<IReadOnlyList<Row>> RunAsync(Plan plan, ChildPids pids, TextWriter progress)
    {
        (string Name, IReadOnlyDictionary<string, string> Environment)[] variants = [("", new Dictionary<string, string>())];
        var ratios = variants.ToDictionary(variant => variant.Name, _ => new List<double>());
        var cpu = variants.ToDictionary(variant => variant.Name, _ => new List<(double, double, double, double)>());
        var heads = variants.ToDictionary(variant => variant.Name, _ => new List<double>());
        var tails = variants.ToDictionary(variant => variant.Name, _ => new List<double>());
        for (var run = -1; run < plan.Runs; run++)
        {
            foreach (var variant in variants)
            {
                var (head, tail, usage) = await RatesAsync(plan.WarmUpItems, plan.WarmUpHead, pids, variant.Environment);
                if (run >= 0)
                {
                    cpu[variant.Name].Add(usage);
                    ratios[variant.Name].Add(head / tail);
                    heads[variant.Name].Add(head);
                    tails[variant.Name].Add(tail);
                }
                await progress.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  fresh 2-worker stage{(variant.Name.Length == 0 ? "" : " " + variant.Name)}, {(run < 0 ? "warm-up" : $"run {run + 1}/{plan.Runs}")}: first {plan.WarmUpHead:N0} {head:N0}/s, the rest {tail:N0}/s, ratio {head / tail:0.00}; CPU µs/item head parent {usage.HeadParent:N2} child {usage.HeadChild:N2}, tail parent {usage.TailParent:N2} child {usage.TailChild:N2}"));
            }
        }
        return
        [
            .. variants.Select(variant =>
            {
                var head = new Sample(heads[variant.Name]).Median;
                var tail = new Sample(tails[variant.Name]).Median;
                var c = cpu[variant.Name];
                double Median(Func<(double HeadParent, double HeadChild, double TailParent, double TailChild), double> pick) => new Sample(c.Select(pick)).Median;
                var cpuNote = c.Count == 0 ? "" : string.Create(CultureInfo.InvariantCulture, $"; CPU µs/item, parent / children: first {Median(u => u.HeadParent):N2} / {Median(u => u.HeadChild):N2}, the rest {Median(u => u.TailParent):N2} / {Median(u => u.TailChild):N2}");
                return Row.Measured(
                    "7k" + variant.Name,
                    string.Create(CultureInfo.InvariantCulture, $"a new scope, `Stage<int,int>(Identity, Workers = 2)` → `Sink`, {plan.WarmUpItems:N0} items/run{(variant.Name.Length == 0 ? "" : " " + variant.Name)}: the rate over the first {plan.WarmUpHead:N0} results at the sink ÷ the rate over the rest (per run; medians {head:N0} and {tail:N0} items/s{cpuNote})"),
                    new Sample(ratios[variant.Name]),
                    Unit.Ratio,
                    "target ≥ 0.8"
                );
            }),
        ];
    }

    /// <summary>Items/s over the first <paramref name="head"/> results and over the rest, from the first result on.</summary>
    private static async Task<(double Head, double Tail, (double HeadParent, double HeadChild, double TailParent, double TailChild) Cpu)> RatesAsync(int items, int head, ChildPids pids, IReadOnlyDictionary<string, string> environment)
    {
        long sum = 0;
        long first = 0, split = 0, last = 0;
        double[] parentCpu = new double[3], childCpu = new double[3];
        IReadOnlyCollection<int> children = [];
        void Stamp(int at)
        {
            parentCpu[at] = ProcessMeter.ParentSeconds();
            childCpu[at] = children.Sum(ProcessMeter.ChildSeconds);
        }
        await using var scope = new NurseryScope(new NurseryOptions { MaxRecords = 1000 });
        var stage = scope.Stage<int, int>(BenchBodies.Identity, new StageOptions { Workers = 2, Name = "bench-warm-up", Worker = new WorkerOptions { Environment = environment } });
        var seen = 0;
        var sink = scope.Sink<int>(x =>
        {
            if (seen++ == 0)
            {
                children = stage.ProcessIds;
                Stamp(0);
                first = Stopwatch.GetTimestamp();
            }
            sum += x;
            if (seen == head)
            {
                split = Stopwatch.GetTimestamp();
                Stamp(1);
            }
            if (seen == items)
            {
                last = Stopwatch.GetTimestamp();
                Stamp(2);
            }
        });
        stage.LinkTo(sink);
        var result = await scope.RunAsync(Enumerable.Range(0, items), stage).WaitAsync(WorkerScope.Bound);
        foreach (var pid in stage.ProcessIds)
            pids.Track(pid);
        if (!result.Completed || sum != (long)items * (items - 1) / 2)
            throw new BenchmarkException($"the Dataflow stage did not pass every item: {result}");
        var perItem = 1e6 / head;
        var perTailItem = 1e6 / (items - head);
        return (
            (head - 1) / Stopwatch.GetElapsedTime(first, split).TotalSeconds,
            (items - head) / Stopwatch.GetElapsedTime(split, last).TotalSeconds,
            ((parentCpu[1] - parentCpu[0]) * perItem, (childCpu[1] - childCpu[0]) * perItem, (parentCpu[2] - parentCpu[1]) * perTailItem, (childCpu[2] - childCpu[1]) * perTailItem)
        );
    }
}
