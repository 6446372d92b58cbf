using System.Globalization;

namespace Nursery.Benchmarks;

/// <summary>
/// Rows 1–3: items/s of trivial items (batched, one item per frame, one round trip at a time, two workers) and MB/s of
/// 10 KiB strings. The trivial rows are interleaved run by run, so the noise of a shared machine falls on all of
/// them alike and their ratios stay meaningful.
/// </summary>
internal static class Throughput
{
    private const int EchoBytes = 10 * 1024;

    public static async Task<IReadOnlyList<Row>> TrivialAsync(Plan plan, ChildPids pids, TextWriter progress)
    {
        var body = Body.From<int, int>(BenchBodies.Identity);
        var options = new WorkerOptions { Name = "bench" };
        await using var scope = new WorkerScope(pids);
        var batched = await scope.StartAsync(body, options);
        var unbatched = await scope.StartAsync(body, options with { MaxFrameItems = 1 });
        var second = await scope.StartAsync(body, options);

        var meters = new Dictionary<string, Meter> { ["1a"] = new(), ["1b"] = new(), ["1c"] = new(), ["2"] = new() };
        var half = plan.TrivialItems / 2;
        for (var run = -1; run < plan.Runs; run++)
        {
            var timed = run >= 0;
            var b = meters["1a"].Add(timed, plan.TrivialItems, await ProcessMeter.MeterAsync(() => Drive.WindowedAsync(batched, 0, plan.TrivialItems, plan.Window), batched.ProcessId));
            var u = meters["1b"].Add(timed, plan.UnbatchedItems, await ProcessMeter.MeterAsync(() => Drive.WindowedAsync(unbatched, 0, plan.UnbatchedItems, plan.Window), unbatched.ProcessId));
            var r = meters["1c"].Add(timed, plan.RoundTripItems, await ProcessMeter.MeterAsync(() => Drive.RoundTripsAsync(batched, plan.RoundTripItems), batched.ProcessId));
            var t = meters["2"].Add(
                timed,
                plan.TrivialItems,
                await ProcessMeter.MeterAsync(
                    () => Timed(() => Task.WhenAll(Drive.WindowedAsync(batched, 0, half, plan.Window), Drive.WindowedAsync(second, half, plan.TrivialItems - half, plan.Window))),
                    batched.ProcessId,
                    second.ProcessId
                )
            );
            var label = timed ? string.Create(CultureInfo.InvariantCulture, $"run {run + 1}/{plan.Runs}") : "warm-up";
            await progress.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  trivial items, {label}: batched {b:N0}/s, one per frame {u:N0}/s, round trip {r:N0}/s, two workers {t:N0}/s"));
        }

        var batchedSample = meters["1a"].Rates;
        var unbatchedSample = meters["1b"].Rates;
        var roundTripSample = meters["1c"].Rates;
        var twoSample = meters["2"].Rates;
        var n = plan.TrivialItems.ToString("N0", CultureInfo.InvariantCulture);
        var window = plan.Window.ToString("N0", CultureInfo.InvariantCulture);
        return
        [
            Row.Measured("1a", $"int identity, one worker, default batching (up to 1,024 items per frame), {window} calls in flight, {n} items/run", batchedSample, Unit.ItemsPerSecond, "reference for 1b, 1c, 2, 6a") with { CpuPerItem = meters["1a"].CpuPerItem, ItemsPerWrite = meters["1a"].ItemsPerWrite, ParentCollections = meters["1a"].ParentCollections },
            Row.Measured(
                "1b",
                $"int identity, one worker, one item per frame, {window} calls in flight, {plan.UnbatchedItems.ToString("N0", CultureInfo.InvariantCulture)} items/run",
                unbatchedSample,
                Unit.ItemsPerSecond,
                Ratio("1a ÷ 1b", batchedSample.Median, unbatchedSample.Median)
            ) with { CpuPerItem = meters["1b"].CpuPerItem, ItemsPerWrite = meters["1b"].ItemsPerWrite, ParentCollections = meters["1b"].ParentCollections },
            Row.Measured(
                "1c",
                $"int identity, one worker, one item at a time (await each), {plan.RoundTripItems.ToString("N0", CultureInfo.InvariantCulture)} items/run",
                roundTripSample,
                Unit.ItemsPerSecond,
                Ratio("1a ÷ 1c", batchedSample.Median, roundTripSample.Median)
            ) with { CpuPerItem = meters["1c"].CpuPerItem, ItemsPerWrite = meters["1c"].ItemsPerWrite, ParentCollections = meters["1c"].ParentCollections },
            Row.Measured("2", $"int identity, two workers, default batching, {window} calls in flight per worker, {n} items/run in all", twoSample, Unit.ItemsPerSecond, Ratio("2 ÷ 1a", twoSample.Median, batchedSample.Median)) with { CpuPerItem = meters["2"].CpuPerItem, ItemsPerWrite = meters["2"].ItemsPerWrite, ParentCollections = meters["2"].ParentCollections },
        ];
    }

    public static async Task<Row> EchoAsync(Plan plan, ChildPids pids, TextWriter progress)
    {
        var payload = TenKibText();
        await using var scope = new WorkerScope(pids);
        var worker = await scope.StartAsync(Body.From<string, string>(BenchBodies.Echo), new WorkerOptions { Name = "bench-echo" });
        var meter = new Meter();
        for (var run = -1; run < plan.Runs; run++)
        {
            var rate = meter.Add(run >= 0, plan.EchoItems, await ProcessMeter.MeterAsync(() => Drive.EchoAsync(worker, payload, plan.EchoItems, plan.EchoWindow), worker.ProcessId));
            var megabytesPerSecond = rate * EchoBytes / 1e6;
            await progress.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  10 KiB echo, {(run < 0 ? "warm-up" : $"run {run + 1}/{plan.Runs}")}: {megabytesPerSecond:N1} MB/s"));
        }
        return Row.Measured(
            "3",
            string.Create(CultureInfo.InvariantCulture, $"10 KiB ASCII string echoed, one worker, {plan.EchoWindow} calls in flight, {plan.EchoItems:N0} items/run (MB = 10^6 bytes of payload, counted once though it crosses the pipe both ways)"),
            new Sample(meter.RateValues.Select(rate => rate * EchoBytes / 1e6)),
            Unit.MegabytesPerSecond
        ) with { CpuPerItem = meter.CpuPerItem, ItemsPerWrite = meter.ItemsPerWrite, ParentCollections = meter.ParentCollections };
    }

    /// <summary>10,240 ASCII letters and digits: no JSON escaping, one byte per char in UTF-8.</summary>
    public static string TenKibText()
    {
        const string alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        return string.Create(EchoBytes, alphabet, static (span, letters) =>
        {
            for (var i = 0; i < span.Length; i++)
                span[i] = letters[i % letters.Length];
        });
    }

    public static string Ratio(string label, double numerator, double denominator) => string.Create(CultureInfo.InvariantCulture, $"{label} = {numerator / denominator:0.00}×");

    /// <summary>The items/s, the CPU per item and the items per write(2) of the timed runs of one row.</summary>
    private sealed class Meter
    {
        private readonly List<double> _rates = [];
        private readonly List<double> _parentMicroseconds = [];
        private readonly List<double> _childMicroseconds = [];
        private readonly List<double> _parentItemsPerWrite = [];
        private readonly List<double> _childItemsPerWrite = [];
        private readonly List<double>[] _collectionsPerThousand = [[], [], []];

        public IReadOnlyList<double> RateValues => _rates;

        public Sample Rates => new(_rates);

        public string CpuPerItem => _rates.Count == 0 ? "" : string.Create(CultureInfo.InvariantCulture, $"{new Sample(_parentMicroseconds).Median:N2} / {new Sample(_childMicroseconds).Median:N2}");

        public string ItemsPerWrite => _rates.Count == 0 ? "" : string.Create(CultureInfo.InvariantCulture, $"{new Sample(_parentItemsPerWrite).Median:N1} / {new Sample(_childItemsPerWrite).Median:N1}");

        public string ParentCollections =>
            _rates.Count == 0 ? "" : string.Join(" / ", _collectionsPerThousand.Select(generation => new Sample(generation).Median.ToString("0.###", CultureInfo.InvariantCulture)));

        /// <summary>Records a run if it is timed; returns its items/s either way.</summary>
        public double Add(bool timed, int items, Usage run)
        {
            var rate = items / run.Elapsed.TotalSeconds;
            if (timed)
            {
                _rates.Add(rate);
                _parentMicroseconds.Add(run.ParentSeconds / items * 1e6);
                _childMicroseconds.Add(run.ChildSeconds / items * 1e6);
                _parentItemsPerWrite.Add(items / run.ParentWrites);
                _childItemsPerWrite.Add(items / run.ChildWrites);
                for (var generation = 0; generation < 3; generation++)
                    _collectionsPerThousand[generation].Add(run.ParentCollections[generation] * 1000.0 / items);
            }
            return rate;
        }
    }

    private static async Task<TimeSpan> Timed(Func<Task> action)
    {
        var start = System.Diagnostics.Stopwatch.GetTimestamp();
        await action();
        return System.Diagnostics.Stopwatch.GetElapsedTime(start);
    }
}
