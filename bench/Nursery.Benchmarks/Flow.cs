using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Threading.Tasks.Dataflow;
using LanguageExt;

namespace Nursery.Benchmarks;

/// <summary>
/// Rows 7–13: Nursery next to what users would pick instead, in the same run. Python's process pools (a stdlib
/// script run with python3), a WorkerPool and the user-facing Dataflow path with two children, in-process Dataflow,
/// fail-fast latency, stage start-up, the parent's memory while streaming, and command stages next to xargs and
/// GNU parallel.
/// </summary>
internal static class Flow
{
    private static readonly TimeSpan Bound = WorkerScope.Bound;

    /// <summary>Rows 7a–7f and 8a–8b: Python peers, a WorkerPool and a Dataflow stage, all with two workers.</summary>
    public static async Task<IReadOnlyList<Row>> PeersAsync(Plan plan, ChildPids pids, TextWriter progress)
    {
        var python = await RunPythonPeersAsync(plan, progress);
        var rows = new List<Row>();

        // Nursery: a WorkerPool of two children, a deep window; the Dataflow path; 10 KiB echo through a pool.
        var poolRates = new List<double>();
        var mapRates = new List<double>();
        var mapEchoRates = new List<double>();
        var packEchoRates = new List<double>();
        var flowRates = new List<double>();
        var smallRates = new List<double>();
        var inProcessRates = new List<double>();
        var echoRates = new List<double>();
        var payload = Throughput.TenKibText();
        await using (var pool = new WorkerPool<int, int>(Body.From<int, int>(BenchBodies.Identity), new PoolOptions { Workers = 2, Worker = new WorkerOptions { Name = "bench-pool" } }))
        await using (var echoPool = new WorkerPool<string, string>(Body.From<string, string>(BenchBodies.Echo), new PoolOptions { Workers = 2, Worker = new WorkerOptions { Name = "bench-pool-echo" } }))
        await using (var packPool = new WorkerPool<string, string>(Body.From<string, string>(BenchBodies.Echo, new MessagePackCodec()), new PoolOptions { Workers = 2, Worker = new WorkerOptions { Name = "bench-pool-msgpack" } }))
        {
            try
            {
                await pool.StartAsync().WaitAsync(Bound);
                await echoPool.StartAsync().WaitAsync(Bound);
                await packPool.StartAsync().WaitAsync(Bound);
                for (var run = -1; run < plan.Runs; run++)
                {
                    var p = await PoolWindowAsync(pool, plan.FlowItems, plan.Window * 2);
                    var m = await PoolMapAsync(pool, plan.FlowItems);
                    var f = await DataflowRateAsync(plan.StageItems, pids, new StageOptions { Workers = 2, Name = "bench-flow" });
                    var d = await DataflowRateAsync(plan.StageItems, pids, new StageOptions { Workers = 2, Name = "bench-flow-small", ItemsPerWorker = 256 });
                    // Row 9 right after 7f and 7g in every run: the machine drifts by more than the ratio's margin
                    // between groups minutes apart (row 9 alone moved from 2.7 to 4.5 M items/s between two full runs).
                    var r9 = await InProcessRateAsync(plan.StageItems);
                    var e = await PoolEchoAsync(echoPool, payload, plan.FlowEchoItems, plan.EchoWindow * 2);
                    var me = await PoolMapEchoAsync(echoPool, payload, plan.FlowEchoItems);
                    var pe = await PoolMapEchoAsync(packPool, payload, plan.FlowEchoItems);
                    if (run >= 0)
                    {
                        poolRates.Add(p);
                        mapRates.Add(m);
                        mapEchoRates.Add(me * payload.Length / 1e6);
                        packEchoRates.Add(pe * payload.Length / 1e6);
                        flowRates.Add(f);
                        smallRates.Add(d);
                        inProcessRates.Add(r9);
                        echoRates.Add(e * payload.Length / 1e6);
                    }
                    await progress.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  two children, {(run < 0 ? "warm-up" : $"run {run + 1}/{plan.Runs}")}: WorkerPool {p:N0}/s, MapAsync {m:N0}/s, Dataflow stage {f:N0}/s, ItemsPerWorker 256 {d:N0}/s, in-process Dataflow {r9:N0}/s, 10 KiB echo {e * payload.Length / 1e6:N1} MB/s, through MapAsync {me * payload.Length / 1e6:N1} MB/s, MessagePack {pe * payload.Length / 1e6:N1} MB/s"));
                }
            }
            finally
            {
                foreach (var pid in pool.ProcessIds.Concat(echoPool.ProcessIds).Concat(packPool.ProcessIds))
                    pids.Track(pid);
            }
        }

        var poolSample = new Sample(poolRates);
        var mapSample = new Sample(mapRates);
        var mapEchoSample = new Sample(mapEchoRates);
        var packEchoSample = new Sample(packEchoRates);
        var flowSample = new Sample(flowRates);
        var echoSample = new Sample(echoRates);
        var smallSample = new Sample(smallRates);
        var n = plan.FlowItems.ToString("N0", CultureInfo.InvariantCulture);
        var ns = plan.StageItems.ToString("N0", CultureInfo.InvariantCulture);
        var n1 = plan.PythonUnchunkedItems.ToString("N0", CultureInfo.InvariantCulture);
        Row Py(string id, string key, string what, string items, Func<Sample, string> ratio) =>
            python.Rows.TryGetValue(key, out var values) && values.Count > 0
                ? Row.Measured(id, $"Python {python.Version} {what}, 2 workers, `x*2` over ints, {items} items/run (pool started before timing)", new Sample(values), Unit.ItemsPerSecond, ratio(new Sample(values)))
                : Row.Failed(id, $"Python {what}", Unit.ItemsPerSecond, python.Problem ?? "not measured");
        rows.Add(Py("7a", "mp64", "`multiprocessing.Pool.map` chunksize 64", n, s => Throughput.Ratio("7h ÷ 7a", mapSample.Median, s.Median) + "; " + Throughput.Ratio("7f ÷ 7a", flowSample.Median, s.Median) + "; " + Throughput.Ratio("7e ÷ 7a", poolSample.Median, s.Median)));
        rows.Add(Py("7b", "mp1", "`multiprocessing.Pool.map` chunksize 1", n1, s => Throughput.Ratio("7f ÷ 7b", flowSample.Median, s.Median)));
        rows.Add(Py("7c", "ppe64", "`ProcessPoolExecutor.map` chunksize 64", n, s => Throughput.Ratio("7h ÷ 7c", mapSample.Median, s.Median) + "; " + Throughput.Ratio("7f ÷ 7c", flowSample.Median, s.Median) + "; " + Throughput.Ratio("7e ÷ 7c", poolSample.Median, s.Median)));
        rows.Add(Py("7d", "ppe1", "`ProcessPoolExecutor.map` chunksize 1", n1, s => Throughput.Ratio("7f ÷ 7d", flowSample.Median, s.Median)));
        rows.Add(Row.Measured("7e", string.Create(CultureInfo.InvariantCulture, $"Nursery `WorkerPool<int,int>`, 2 children, default options, {plan.Window * 2:N0} calls in flight, {n} items/run"), poolSample, Unit.ItemsPerSecond, "reference for 7a–7d"));
        rows.Add(Row.Measured("7f", $"Nursery Dataflow: `scope.Stage<int,int>(Identity, Workers = 2)` → `scope.Sink`, `RunAsync(Enumerable.Range(0, {ns}))`; timed from the first result at the sink to the last (stage start excluded)", flowSample, Unit.ItemsPerSecond, Throughput.Ratio("7f ÷ 7e", flowSample.Median, poolSample.Median)));
        rows.Add(Row.Measured("7g", "the same Dataflow stage with `ItemsPerWorker = 256` (the default before 1,024): batches of up to 128 items instead of 512", smallSample, Unit.ItemsPerSecond, Throughput.Ratio("7g ÷ 7f", smallSample.Median, flowSample.Median) + "; " + (python.Rows.TryGetValue("mp64", out var mp) && mp.Count > 0 ? Throughput.Ratio("7g ÷ 7a", smallSample.Median, new Sample(mp).Median) : "")));
        rows.Add(Row.Measured("7h", $"Nursery `WorkerPool<int,int>.MapAsync(Enumerable.Range(0, {n}))`, 2 children, default options: batches sized by the pool (like `Pool.imap`), results in order", mapSample, Unit.ItemsPerSecond, Throughput.Ratio("7h ÷ 7e", mapSample.Median, poolSample.Median)));
        rows.Add(Row.Measured("8a", string.Create(CultureInfo.InvariantCulture, $"Nursery `WorkerPool<string,string>`, 2 children, 10 KiB ASCII strings echoed, {plan.EchoWindow * 2} in flight, {plan.FlowEchoItems:N0} items/run (MB = 10^6 bytes of payload, counted once)"), echoSample, Unit.MegabytesPerSecond, "reference for 8b"));
        rows.Add(python.Rows.TryGetValue("mp64echo", out var echoValues) && echoValues.Count > 0
            ? Row.Measured("8b", string.Create(CultureInfo.InvariantCulture, $"Python {python.Version} `multiprocessing.Pool.map` chunksize 64, 2 workers, the same 10 KiB strings echoed, {plan.PythonEchoItems:N0} items/run"), new Sample(echoValues.Select(rate => rate * payload.Length / 1e6)), Unit.MegabytesPerSecond, Throughput.Ratio("8a ÷ 8b", echoSample.Median, new Sample(echoValues.Select(rate => rate * payload.Length / 1e6)).Median))
            : Row.Failed("8b", "Python mp.Pool 10 KiB echo", Unit.MegabytesPerSecond, python.Problem ?? "not measured"));
        rows.Add(Row.Measured("8c", string.Create(CultureInfo.InvariantCulture, $"the same 10 KiB echo through `WorkerPool<string,string>.MapAsync`, 2 children, {plan.FlowEchoItems:N0} items/run"), mapEchoSample, Unit.MegabytesPerSecond, python.Rows.TryGetValue("mp64echo", out var echoPeer) && echoPeer.Count > 0 ? Throughput.Ratio("8c ÷ 8b", mapEchoSample.Median, new Sample(echoPeer.Select(rate => rate * payload.Length / 1e6)).Median) : ""));
        rows.Add(Row.Measured("8d", string.Create(CultureInfo.InvariantCulture, $"as 8c with `MessagePackCodec` instead of the default JSON codec (`Body.From(Echo, new MessagePackCodec())`)"), packEchoSample, Unit.MegabytesPerSecond, python.Rows.TryGetValue("mp64echo", out var packPeer) && packPeer.Count > 0 ? Throughput.Ratio("8d ÷ 8b", packEchoSample.Median, new Sample(packPeer.Select(rate => rate * payload.Length / 1e6)).Median) + "; " + Throughput.Ratio("8d ÷ 8c", packEchoSample.Median, mapEchoSample.Median) : ""));
        var inProcessSample = new Sample(inProcessRates);
        rows.Add(Row.Measured("9", string.Create(CultureInfo.InvariantCulture, $"in-process TPL Dataflow `TransformBlock<int,int>(identity)` → `ActionBlock<int>` (bounded 4,096), {plan.StageItems:N0} items/run (as 7f), no child; each run right after a run of 7f and 7g"), inProcessSample, Unit.ItemsPerSecond, Throughput.Ratio("7f ÷ 9", flowSample.Median, inProcessSample.Median)));
        return rows;
    }

    /// <summary>
    /// Row 9's measurement, one run: the same trivial body in-process, TransformBlock → ActionBlock; the ratio 7f ÷ 9 is
    /// the overhead of children. Measured inside the peers' loop, right after the Dataflow stage's runs.
    /// </summary>
    private static async Task<double> InProcessRateAsync(int items)
    {
        long sum = 0;
        var transform = new TransformBlock<int, int>(BenchBodies.Identity, new ExecutionDataflowBlockOptions { BoundedCapacity = 4096 });
        var action = new ActionBlock<int>(x => sum += x, new ExecutionDataflowBlockOptions { BoundedCapacity = 4096 });
        transform.LinkTo(action, new DataflowLinkOptions { PropagateCompletion = true });
        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < items; i++)
        {
            if (!transform.Post(i))
                await transform.SendAsync(i);
        }
        transform.Complete();
        await action.Completion.WaitAsync(Bound);
        var elapsed = Stopwatch.GetElapsedTime(start);
        if (sum != (long)items * (items - 1) / 2)
            throw new BenchmarkException("in-process Dataflow summed wrong");
        return items / elapsed.TotalSeconds;
    }

    /// <summary>Row 10: one item throws in a 2-worker stage; from the throw (the child's wall clock) to RunAsync returned with every child reaped.</summary>
    public static async Task<IReadOnlyList<Row>> FailFastAsync(Plan plan, ChildPids pids, TextWriter progress)
    {
        var latencies = new List<double>();
        var problems = new List<string>();
        for (var repetition = -1; repetition < plan.FailFastRepetitions; repetition++)
        {
            await using var scope = new NurseryScope(new NurseryOptions { MaxRecords = 1000 });
            var stage = scope.Stage<int, int>(FlowBodies.FailAt, new StageOptions { Workers = 2, Name = "bench-failfast", Worker = new WorkerOptions { KillGrace = TimeSpan.Zero } });
            var sink = scope.Sink<int>(_ => { });
            stage.LinkTo(sink);
            var result = await scope.RunAsync(Enumerable.Range(0, 100_000), stage).WaitAsync(Bound);
            var returned = DateTime.UtcNow.Ticks;
            var stagePids = stage.ProcessIds.ToArray();
            foreach (var pid in stagePids)
                pids.Track(pid);
            var alive = stagePids.Where(pid => Directory.Exists(string.Create(CultureInfo.InvariantCulture, $"/proc/{pid}"))).ToArray();
            if (alive.Length > 0)
                problems.Add(string.Create(CultureInfo.InvariantCulture, $"repetition {repetition + 1}: pid(s) {string.Join(", ", alive)} still had a /proc entry when RunAsync returned"));
            if (result.Completed)
                throw new BenchmarkException("the fail-fast pipeline completed although an item threw");
            var text = result.FirstFailure.Match(failure => failure.ToString(), () => "");
            var at = text.IndexOf("T=", StringComparison.Ordinal);
            var end = at < 0 ? -1 : text.IndexOf("=T", at + 2, StringComparison.Ordinal);
            if (at < 0 || end < 0 || !long.TryParse(text.AsSpan(at + 2, end - at - 2), NumberStyles.None, CultureInfo.InvariantCulture, out var thrown))
                throw new BenchmarkException($"the first failure does not carry the throw time: {text}");
            if (repetition >= 0)
                latencies.Add(TimeSpan.FromTicks(returned - thrown).TotalMilliseconds);
        }
        var sample = new Sample(latencies);
        await progress.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  fail fast: median {sample.Median:N1} ms over {sample.Count}"));
        return [Row.Measured("10", $"fail fast: 2-worker stage, item {FlowBodies.FailingItem} of 100,000 throws, `KillGrace = 0`; from the throw (child's wall clock) to `RunAsync` returned (its children checked gone: no /proc entry)", sample, Unit.Milliseconds, "target ≤ 50 ms", problems)];
    }

    /// <summary>
    /// Row 11: a fresh scope, a 2-worker stage made, RunAsync over two items → the first result at the sink. Each
    /// repetition is preceded by a raw start of the 10-line program (as row 5d), and the ratio is taken against those:
    /// the machine is shared, and its load drifts between the start-up group and this one by more than the target's
    /// margin.
    /// </summary>
    public static async Task<IReadOnlyList<Row>> StageStartAsync(Plan plan, ChildPids pids, TextWriter progress)
    {
        var starts = new List<double>();
        var rawStarts = new List<double>();
        var dotnet = ChildHostLocation.Default.DotnetExecutable;
        var echo = Path.Combine(AppContext.BaseDirectory, "Nursery.BenchEcho.dll");
        for (var repetition = -1; repetition < plan.StartRepetitions; repetition++)
        {
            var raw = await Startup.RawStartAsync(dotnet, echo, pids);
            if (repetition >= 0)
                rawStarts.Add(raw);
            var first = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
            var start = Stopwatch.GetTimestamp();
            await using var scope = new NurseryScope();
            var stage = scope.Stage<int, int>(BenchBodies.Identity, new StageOptions { Workers = 2, Name = "bench-start" });
            var sink = scope.Sink<int>(_ => first.TrySetResult(Stopwatch.GetTimestamp()));
            stage.LinkTo(sink);
            var result = await scope.RunAsync(Enumerable.Range(0, 2), stage).WaitAsync(Bound);
            foreach (var pid in stage.ProcessIds)
                pids.Track(pid);
            if (!result.Completed || result.Succeeded != 2)
                throw new BenchmarkException($"the start-up pipeline did not complete: {result}");
            var at = await first.Task.WaitAsync(Bound);
            if (repetition >= 0)
                starts.Add(Stopwatch.GetElapsedTime(start, at).TotalMilliseconds);
        }
        var sample = new Sample(starts);
        var rawSample = new Sample(rawStarts);
        await progress.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  stage start → first result: median {sample.Median:N1} ms; raw starts between them: median {rawSample.Median:N1} ms"));
        return
        [
            Row.Measured(
                "11",
                string.Create(CultureInfo.InvariantCulture, $"new `NurseryScope`, `Stage<int,int>(Identity, Workers = 2)` → `Sink`, `RunAsync` over 2 items → the first result at the sink; each repetition after a raw start as 5d's (their median here: {rawSample.Median:N2} ms)"),
                sample,
                Unit.Milliseconds,
                Throughput.Ratio("11 ÷ 5d (the raw starts between these)", sample.Median, rawSample.Median) + " (target ≤ 1.5×)"
            ),
        ];
    }

    /// <summary>
    /// Row 12: the parent's memory while N items stream through two stages. Measured in a fresh process of this
    /// program (<c>--streaming-probe</c>) that does nothing else, so the figure is what a pipeline's parent holds, not
    /// the harness's leftovers from earlier rows.
    /// </summary>
    public static async Task<IReadOnlyList<Row>> StreamingMemoryAsync(Plan plan, ChildPids pids, TextWriter progress)
    {
        var items = plan.StreamItems;
        var self = Environment.ProcessPath ?? "dotnet";
        var arguments = new List<string>();
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
            arguments.Add(typeof(Flow).Assembly.Location);
        arguments.AddRange(["--streaming-probe", items.ToString(CultureInfo.InvariantCulture), ((int)plan.StreamBudget.TotalSeconds).ToString(CultureInfo.InvariantCulture)]);
        var info = new ProcessStartInfo(self) { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in arguments)
            info.ArgumentList.Add(argument);
        using var probe = Process.Start(info) ?? throw new BenchmarkException("the streaming probe did not start");
        pids.Track(probe.Id);
        var output = await probe.StandardOutput.ReadToEndAsync().WaitAsync(plan.StreamBudget + Bound + Bound);
        await probe.WaitForExitAsync().WaitAsync(Bound);
        var line = output.Split('\n').LastOrDefault(text => text.StartsWith("STREAM ", StringComparison.Ordinal))
            ?? throw new BenchmarkException($"the streaming probe (exit {probe.ExitCode}) printed no result: {output}");
        var fields = line["STREAM ".Length..].Split(' ').Select(field => field.Split('=', 2)).ToDictionary(pair => pair[0], pair => pair[1]);
        foreach (var pid in fields["pids"].Split(',', StringSplitOptions.RemoveEmptyEntries))
            pids.Track(int.Parse(pid, CultureInfo.InvariantCulture));
        double Mib(string key) => long.Parse(fields[key], CultureInfo.InvariantCulture) / 1024.0;
        var (startRss, peakRss, endRss, hwm) = (Mib("start_kib"), Mib("peak_kib"), Mib("end_kib"), Mib("hwm_kib"));
        var seconds = double.Parse(fields["seconds"], CultureInfo.InvariantCulture);
        var completed = fields["completed"] == "true";
        var problems = new List<string>();
        if (fields["sum_ok"] != "true")
            problems.Add("the sum at the sink is wrong");
        if (probe.ExitCode != 0)
            problems.Add($"the probe exited with {probe.ExitCode}");
        var what = completed
            ? string.Create(CultureInfo.InvariantCulture, $"{items:N0} items streamed in {seconds:N0} s ({items / seconds:N0}/s)")
            : string.Create(CultureInfo.InvariantCulture, $"NOT all of {items:N0} items within the {plan.StreamBudget.TotalSeconds:N0} s budget: {fields["succeeded"]} passed in {seconds:N0} s");
        await progress.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  streaming (own process): {what}; RSS start {startRss:N0} MiB, peak {peakRss:N0} MiB, end {endRss:N0} MiB, VmHWM {hwm:N0} MiB"));
        return
        [
            Row.Measured(
                "12",
                string.Create(CultureInfo.InvariantCulture, $"parent RSS (MiB, /proc/self/status sampled every 100 ms) of a process that only streams through two 1-worker stages → sink (this program with `--streaming-probe`): {what}. Start {startRss:N0}, peak {peakRss:N0}, end {endRss:N0} MiB, VmHWM {hwm:N0} MiB. The figure is the peak"),
                new Sample([peakRss]),
                Unit.Mebibytes,
                string.Create(CultureInfo.InvariantCulture, $"peak − start = {peakRss - startRss:N0} MiB (target: flat, ≤ 150 MiB)"),
                problems
            ),
        ];
    }

    /// <summary>The <c>--streaming-probe</c> process: streams <paramref name="items"/> through two stages and prints one STREAM line.</summary>
    public static async Task<int> StreamingProbeAsync(long items, TimeSpan budget)
    {
        var startRss = Status("VmRSS:");
        var peakRss = startRss;
        var sum = 0L;
        using var stop = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                peakRss = Math.Max(peakRss, Status("VmRSS:"));
                try { await Task.Delay(100, stop.Token); } catch (OperationCanceledException) { }
            }
        });
        var clock = Stopwatch.StartNew();
        using var deadline = new CancellationTokenSource(budget);
        PipelineResult result;
        int[] childPids;
        await using (var scope = new NurseryScope(new NurseryOptions { MaxRecords = 1000 }))
        {
            var first = scope.Stage<long, long>(BenchBodies.IdentityLong, new StageOptions { Workers = 1, Name = "bench-stream-1" });
            var second = scope.Stage<long, long>(BenchBodies.IdentityLong, new StageOptions { Workers = 1, Name = "bench-stream-2" });
            var sink = scope.Sink<long>(x => sum += x);
            first.LinkTo(second);
            second.LinkTo(sink);
            result = await scope.RunAsync(Range(items), first, cancellationToken: deadline.Token).WaitAsync(budget + Bound);
            childPids = [.. first.ProcessIds.Concat(second.ProcessIds)];
        }
        clock.Stop();
        await stop.CancelAsync();
        await sampler;
        var line = string.Create(
            CultureInfo.InvariantCulture,
            $"STREAM items={items} completed={(result.Completed ? "true" : "false")} succeeded={result.Succeeded} sum_ok={(!result.Completed || sum == items * (items - 1) / 2 ? "true" : "false")} seconds={clock.Elapsed.TotalSeconds:F3} start_kib={startRss} peak_kib={peakRss} end_kib={Status("VmRSS:")} hwm_kib={Status("VmHWM:")} pids={string.Join(',', childPids)}"
        );
        await Console.Out.WriteLineAsync(line);
        return 0;
    }

    /// <summary>GNU parallel on the PATH, or why row 13c cannot be measured (not installed, or another program named parallel, such as moreutils').</summary>
    private static async Task<(string? Path, string Reason)> GnuParallelAsync()
    {
        var found = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, "parallel"))
            .FirstOrDefault(File.Exists);
        if (found is null)
            return (null, "GNU parallel is not installed here (no `parallel` on the PATH; `apt-get install parallel` to measure this row)");
        Process? probe = null;
        try
        {
            probe = Process.Start(new ProcessStartInfo(found, "--version") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false })
                ?? throw new IOException($"{found} could not be started");
            probe.StandardInput.Close();
            var texts = await Task.WhenAll(probe.StandardOutput.ReadToEndAsync(), probe.StandardError.ReadToEndAsync()).WaitAsync(TimeSpan.FromSeconds(10));
            await probe.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            return texts[0].Contains("GNU parallel", StringComparison.Ordinal)
                ? (found, "")
                : (null, $"{found} is not GNU parallel (its --version does not say so; moreutils ships another `parallel`)");
        }
        catch (Exception exception) when (exception is System.ComponentModel.Win32Exception or TimeoutException or IOException)
        {
            if (probe is { HasExited: false })
                probe.Kill();
            return (null, $"{found} --version failed: {exception.Message}");
        }
        finally
        {
            probe?.Dispose();
        }
    }

    /// <summary>Rows 13a–13c: per-item commands (cat) against xargs and GNU parallel.</summary>
    public static async Task<IReadOnlyList<Row>> CommandsAsync(Plan plan, ChildPids pids, TextWriter progress)
    {
        var file = Path.Combine(Path.GetTempPath(), $"nursery-bench-{Environment.ProcessId}.txt");
        await File.WriteAllTextAsync(file, "nursery\n");
        var (parallel, noParallel) = await GnuParallelAsync();
        List<double> cat = [], xargs = [], gnu = [];
        try
        {
            for (var run = -1; run < plan.CommandRuns; run++)
            {
                var c = await CatStageAsync(plan.CatItems, pids);
                var x = await ShellAsync("xargs", ["-P2", "-n1", "cat"], file, plan.CatItems, pids);
                var g = parallel is null ? double.NaN : await ShellAsync(parallel, ["-j2", "cat"], file, plan.CatItems, pids);
                if (run >= 0)
                {
                    cat.Add(c);
                    xargs.Add(x);
                    gnu.Add(g);
                }
                var gnuText = parallel is null ? "parallel not measured" : string.Create(CultureInfo.InvariantCulture, $"parallel {g:N0}/s");
                await progress.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  commands, {(run < 0 ? "warm-up" : $"run {run + 1}/{plan.CommandRuns}")}: cat stage {c:N0}/s, xargs {x:N0}/s, {gnuText}"));
            }
        }
        finally
        {
            File.Delete(file);
        }
        var catSample = new Sample(cat);
        var rows = new List<Row>
        {
            Row.Measured("13a", string.Create(CultureInfo.InvariantCulture, $"Nursery `CommandStage(Command.PerItem<string,string>(\"cat\"), Workers = 2)`: a `cat` process per item, the item on stdin, {plan.CatItems:N0} items/run (whole `RunAsync`)"), catSample, Unit.ItemsPerSecond, "reference for 13b, 13c"),
            Row.Measured("13b", string.Create(CultureInfo.InvariantCulture, $"`xargs -P2 -n1 cat` over {plan.CatItems:N0} lines, each the path of an 8-byte file (a `cat` process per item; output read and counted)"), new Sample(xargs), Unit.ItemsPerSecond, Throughput.Ratio("13a ÷ 13b", catSample.Median, new Sample(xargs).Median)),
            parallel is null
                ? Row.Skipped("13c", "GNU parallel `parallel -j2 cat`", Unit.ItemsPerSecond, noParallel)
                : Row.Measured("13c", string.Create(CultureInfo.InvariantCulture, $"GNU parallel `parallel -j2 cat` over the same {plan.CatItems:N0} paths"), new Sample(gnu), Unit.ItemsPerSecond, Throughput.Ratio("13a ÷ 13c", catSample.Median, new Sample(gnu).Median)),
        };
        return rows;
    }

    private static async Task<double> CatStageAsync(int items, ChildPids pids)
    {
        var count = 0;
        var start = Stopwatch.GetTimestamp();
        await using var scope = new NurseryScope(new NurseryOptions { MaxRecords = 1000 });
        var stage = scope.CommandStage(Command.PerItem<string, string>("cat"), new StageOptions { Workers = 2, Name = "bench-cat" });
        var sink = scope.Sink<string>(text =>
        {
            if (text.StartsWith("item ", StringComparison.Ordinal))
                count++;
        });
        stage.LinkTo(sink);
        var result = await scope.RunAsync(Enumerable.Range(0, items).Select(i => string.Create(CultureInfo.InvariantCulture, $"item {i}")), stage).WaitAsync(Bound);
        var elapsed = Stopwatch.GetElapsedTime(start);
        foreach (var pid in stage.ProcessIds)
            pids.Track(pid);
        if (!result.Completed || count != items)
            throw new BenchmarkException($"the cat stage did not pass every item ({count} of {items}): {result}");
        return items / elapsed.TotalSeconds;
    }

    /// <summary>Runs <paramref name="program"/> with <paramref name="items"/> lines of <paramref name="file"/> on stdin; checks it printed a line per item.</summary>
    private static async Task<double> ShellAsync(string program, string[] arguments, string file, int items, ChildPids pids)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
            info.ArgumentList.Add(argument);
        var start = Stopwatch.GetTimestamp();
        using var process = Process.Start(info) ?? throw new BenchmarkException($"could not start {program}");
        pids.Track(process.Id);
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        var line = file + "\n";
        for (var i = 0; i < items; i++)
            await process.StandardInput.WriteAsync(line);
        process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(Bound);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new BenchmarkException($"{program} did not finish within {Bound.TotalSeconds} s");
        }
        var text = await output.WaitAsync(Bound);
        var elapsed = Stopwatch.GetElapsedTime(start);
        var lines = text.Count(c => c == '\n');
        if (process.ExitCode != 0 || lines != items)
            throw new BenchmarkException($"{program} exited {process.ExitCode} with {lines} of {items} lines: {await errors.WaitAsync(Bound)}");
        return items / elapsed.TotalSeconds;
    }

    private static async Task<double> PoolWindowAsync(WorkerPool<int, int> pool, int count, int window)
    {
        var inFlight = new Task<Either<ChildFailure, int>>[window];
        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < count; i++)
        {
            var slot = i % window;
            if (i >= window)
                CheckInt(await inFlight[slot].WaitAsync(Bound), i - window);
            inFlight[slot] = pool.InvokeAsync(i, "");
        }
        for (var i = Math.Max(0, count - window); i < count; i++)
            CheckInt(await inFlight[i % window].WaitAsync(Bound), i);
        return count / Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    /// <summary>Items/s through <see cref="WorkerPool{TIn,TOut}.MapAsync"/>, results checked in order.</summary>
    private static async Task<double> PoolMapAsync(WorkerPool<int, int> pool, int count)
    {
        var start = Stopwatch.GetTimestamp();
        var expected = 0;
        await foreach (var result in pool.MapAsync(Enumerable.Range(0, count)).WithCancellation(CancellationToken.None).ConfigureAwait(false))
            CheckInt(result, expected++);
        if (expected != count)
            throw new BenchmarkException($"MapAsync gave {expected} results for {count} items");
        return count / Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    private static async Task<double> PoolMapEchoAsync(WorkerPool<string, string> pool, string payload, int count)
    {
        var start = Stopwatch.GetTimestamp();
        var seen = 0;
        await foreach (var result in pool.MapAsync(Enumerable.Repeat(payload, count)).WithCancellation(CancellationToken.None).ConfigureAwait(false))
        {
            CheckEcho(result, payload);
            seen++;
        }
        if (seen != count)
            throw new BenchmarkException($"MapAsync gave {seen} results for {count} items");
        return count / Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    private static async Task<double> PoolEchoAsync(WorkerPool<string, string> pool, string payload, int count, int window)
    {
        var inFlight = new Task<Either<ChildFailure, string>>[window];
        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < count; i++)
        {
            var slot = i % window;
            if (i >= window)
                CheckEcho(await inFlight[slot].WaitAsync(Bound), payload);
            inFlight[slot] = pool.InvokeAsync(payload, "");
        }
        for (var i = Math.Max(0, count - window); i < count; i++)
            CheckEcho(await inFlight[i % window].WaitAsync(Bound), payload);
        return count / Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    /// <summary>Items/s through the user-facing Dataflow path, from the first result at the sink to the last.</summary>
    private static async Task<double> DataflowRateAsync(int items, ChildPids pids, StageOptions options)
    {
        long sum = 0;
        long first = 0, last = 0;
        await using var scope = new NurseryScope(new NurseryOptions { MaxRecords = 1000 });
        var stage = scope.Stage<int, int>(BenchBodies.Identity, options);
        var seen = 0;
        // The clock is read at the first and the last item only: row 9's action does nothing but the sum either.
        var sink = scope.Sink<int>(x =>
        {
            if (seen++ == 0)
                first = Stopwatch.GetTimestamp();
            sum += x;
            if (seen == items)
                last = Stopwatch.GetTimestamp();
        });
        stage.LinkTo(sink);
        var result = await scope.RunAsync(Enumerable.Range(0, items), stage).WaitAsync(Bound);
        foreach (var pid in stage.ProcessIds)
            pids.Track(pid);
        if (!result.Completed || sum != (long)items * (items - 1) / 2)
            throw new BenchmarkException($"the Dataflow stage did not pass every item: {result}");
        return (items - 1) / Stopwatch.GetElapsedTime(first, last).TotalSeconds;
    }

    private static void CheckInt(Either<ChildFailure, int> result, int expected)
    {
        if (result.Match(static value => value, static _ => -1) != expected)
            throw new BenchmarkException(string.Create(CultureInfo.InvariantCulture, $"item {expected} came back as {result.Match(value => $"{value}", failure => failure.ToString())}"));
    }

    private static void CheckEcho(Either<ChildFailure, string> result, string expected)
    {
        if (!string.Equals(result.Match(static value => value, static _ => ""), expected, StringComparison.Ordinal))
            throw new BenchmarkException($"an echoed payload came back wrong: {result.Match(value => $"a string of {value.Length} chars", failure => failure.ToString())}");
    }

    private static IEnumerable<long> Range(long count)
    {
        for (var i = 0L; i < count; i++)
            yield return i;
    }

    /// <summary>A kB figure from /proc/self/status (VmRSS:, VmHWM:).</summary>
    private static long Status(string field)
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith(field, StringComparison.Ordinal))
                return long.Parse(line.AsSpan(field.Length).Trim().ToString().Split(' ')[0], CultureInfo.InvariantCulture);
        }
        return 0;
    }

    private sealed record PythonPeers(string Version, IReadOnlyDictionary<string, IReadOnlyList<double>> Rows, string? Problem);

    private static async Task<PythonPeers> RunPythonPeersAsync(Plan plan, TextWriter progress)
    {
        var script = Path.Combine(AppContext.BaseDirectory, "python", "peers.py");
        var info = new ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { script, "--items", $"{plan.FlowItems}", "--items1", $"{plan.PythonUnchunkedItems}", "--echo", $"{plan.PythonEchoItems}", "--runs", $"{plan.Runs}" })
            info.ArgumentList.Add(argument);
        try
        {
            using var process = Process.Start(info) ?? throw new BenchmarkException("could not start python3");
            var output = process.StandardOutput.ReadToEndAsync();
            var errors = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
            await process.WaitForExitAsync(timeout.Token);
            if (process.ExitCode != 0)
                return new PythonPeers("?", new Dictionary<string, IReadOnlyList<double>>(), $"python3 peers.py exited {process.ExitCode}: {await errors}");
            using var json = JsonDocument.Parse(await output);
            var rows = new Dictionary<string, IReadOnlyList<double>>();
            foreach (var property in json.RootElement.GetProperty("rows").EnumerateObject())
                rows[property.Name] = [.. property.Value.EnumerateArray().Select(value => value.GetDouble())];
            var version = json.RootElement.GetProperty("python").GetString() ?? "?";
            await progress.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  Python {version}: {string.Join(", ", rows.Select(pair => $"{pair.Key} {new Sample(pair.Value).Median:N0}/s"))}"));
            return new PythonPeers(version, rows, null);
        }
        catch (Exception exception) when (exception is System.ComponentModel.Win32Exception or OperationCanceledException or JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return new PythonPeers("?", new Dictionary<string, IReadOnlyList<double>>(), $"python3 peers.py could not be run: {exception.Message}");
        }
    }
}
