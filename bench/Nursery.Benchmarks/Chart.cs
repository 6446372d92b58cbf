using System.Globalization;

namespace Nursery.Benchmarks;

/// <summary>A PNG bar chart (ScottPlot) of the items/s rows on a log scale, written next to the report.</summary>
internal static class Chart
{
    public static string? Write(IReadOnlyList<Row> rows, string path)
    {
        var bars = rows.Where(row => row.Unit == Unit.ItemsPerSecond && row.Figures.IsSome && row.Median > 0).ToArray();
        if (bars.Length == 0)
            return null;
        var plot = new ScottPlot.Plot();
        var nurseryColor = ScottPlot.Color.FromHex("#1f77b4");
        var peerColor = ScottPlot.Color.FromHex("#ff7f0e");
        var contextColor = ScottPlot.Color.FromHex("#7f7f7f");
        var list = new List<ScottPlot.Bar>();
        var ticks = new List<ScottPlot.Tick>();
        for (var i = 0; i < bars.Length; i++)
        {
            var row = bars[i];
            var position = bars.Length - i;
            var color = IsPeer(row.Id) ? peerColor : IsContext(row.Id) ? contextColor : nurseryColor;
            list.Add(new ScottPlot.Bar { Position = position, Value = Math.Log10(row.Median), ValueBase = 0, FillColor = color, Orientation = ScottPlot.Orientation.Horizontal, Label = row.Median.ToString("N0", CultureInfo.InvariantCulture) });
            ticks.Add(new ScottPlot.Tick(position, $"{row.Id} {Short(row)}"));
        }
        var barPlot = plot.Add.Bars(list);
        barPlot.ValueLabelStyle.FontSize = 11;
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual([.. ticks]);
        var max = (int)Math.Ceiling(bars.Max(row => Math.Log10(row.Median))) + 1;
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual([.. Enumerable.Range(0, max + 1).Select(power => new ScottPlot.Tick(power, power switch { 0 => "1", 3 => "1 k", 6 => "1 M", 9 => "1 G", _ => $"10^{power}" }))]);
        plot.Axes.SetLimits(0, max, 0.3, bars.Length + 0.7);
        plot.Axes.Bottom.Label.Text = "items/s (log scale); blue = Nursery, orange = peers, grey = in-process context";
        plot.Title("Nursery benchmarks: throughput rows (median of the timed runs)");
        plot.Axes.Left.TickLabelStyle.FontSize = 12;
        plot.SavePng(path, 1100, 60 + (bars.Length * 34));
        return path;
    }

    private static bool IsPeer(string id) => id is "7a" or "7b" or "7c" or "7d" or "13b" or "13c";

    private static bool IsContext(string id) => id.StartsWith('6') || id == "9";

    private static string Short(Row row) =>
        row.Id switch
        {
            "1a" => "1 worker, batched",
            "1b" => "1 worker, 1 item per frame",
            "1c" => "1 worker, round trips",
            "2" => "2 workers (Worker×2)",
            "6a" => "direct call (in-process)",
            "6b" => "JSON codec int (in-process)",
            "6c" => "JSON codec 10 KiB (in-process)",
            "7a" => "mp.Pool chunksize 64",
            "7b" => "mp.Pool chunksize 1",
            "7c" => "ProcessPoolExecutor chunksize 64",
            "7d" => "ProcessPoolExecutor chunksize 1",
            "7e" => "Nursery WorkerPool, 2 children",
            "7f" => "Nursery Dataflow stage, 2 workers",
            "7g" => "Dataflow stage, ItemsPerWorker 256",
            "7h" => "Nursery WorkerPool.MapAsync, 2 children",
            "7i" => "Nursery Python worker stage ×1",
            "7j" => "Nursery Python worker stage ×2",
            "9" => "in-process TransformBlock→ActionBlock",
            "13a" => "Nursery cat per item, 2 workers",
            "13b" => "xargs -P2 -n1 cat",
            "13c" => "GNU parallel -j2 cat",
            "14a" => "FsCheck property in-process",
            "14b" => "FsCheck property isolated",
            "14c" => "isolated property, warm child",
            _ => "",
        };
}
