using System.Diagnostics;
using System.Globalization;

namespace Nursery.Benchmarks;

/// <summary>
/// Row 5: how long a worker takes to start (spawn → Ready), its first item, its disposal, and for comparison how
/// long the runtime alone takes to start a tiny program and the child host to say hello, both spawned raw.
/// </summary>
internal static class Startup
{
    public static async Task<IReadOnlyList<Row>> RunAsync(Plan plan, ChildPids pids, TextWriter progress)
    {
        var body = Body.From<int, int>(BenchBodies.Identity);
        var options = new WorkerOptions { Name = "bench-start" };
        List<double> starts = [], firstItems = [], disposals = [];
        for (var repetition = -1; repetition < plan.StartRepetitions; repetition++)
        {
            await using var scope = new WorkerScope(pids);
            var start = Stopwatch.GetTimestamp();
            var worker = await scope.StartAsync(body, options);
            var started = Stopwatch.GetElapsedTime(start);

            start = Stopwatch.GetTimestamp();
            var result = await worker.InvokeAsync(repetition + 1000).WaitAsync(WorkerScope.Bound);
            var firstItem = Stopwatch.GetElapsedTime(start);
            if (result.Match(static value => value, static _ => -1) != repetition + 1000)
                throw new BenchmarkException($"the first item of a fresh worker came back as {result.Match(value => $"{value}", failure => failure.ToString())}");

            var disposed = await scope.DisposeWorkerAsync(worker);
            if (repetition < 0)
                continue;
            starts.Add(started.TotalMilliseconds);
            firstItems.Add(firstItem.TotalMilliseconds);
            disposals.Add(disposed.TotalMilliseconds);
        }
        await progress.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  Worker.StartAsync: median {new Sample(starts).Median:N1} ms over {starts.Count}"));

        var dotnet = ChildHostLocation.Default.DotnetExecutable;
        var echo = Path.Combine(AppContext.BaseDirectory, "Nursery.BenchEcho.dll");
        var host = ChildHostLocation.Default.HostAssembly;
        List<double> echoStarts = [], hostStarts = [];
        for (var repetition = -1; repetition < plan.StartRepetitions; repetition++)
        {
            var e = await RawStartAsync(dotnet, echo, pids);
            var h = await RawStartAsync(dotnet, host, pids);
            if (repetition < 0)
                continue;
            echoStarts.Add(e);
            hostStarts.Add(h);
        }
        await progress.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  raw starts: echo median {new Sample(echoStarts).Median:N1} ms, child host median {new Sample(hostStarts).Median:N1} ms"));

        var startSample = new Sample(starts);
        var echoSample = new Sample(echoStarts);
        var hostSample = new Sample(hostStarts);
        return
        [
            Row.Measured("5a", "Worker.StartAsync for a .NET body (spawn `dotnet Nursery.ChildHost.dll` → Hello → Init → body loaded → Ready)", startSample, Unit.Milliseconds, Throughput.Ratio("5a ÷ 5d", startSample.Median, echoSample.Median)),
            Row.Measured("5b", "first item on a fresh worker (int identity: cold JIT of the codec and body in the child)", new Sample(firstItems), Unit.Milliseconds),
            Row.Measured("5c", "DisposeAsync of an idle worker (stdin closed → child exits → reaped)", new Sample(disposals), Unit.Milliseconds),
            Row.Measured("5d", "raw `dotnet Nursery.BenchEcho.dll` (a 10-line program) spawned with System.Diagnostics.Process → first byte on stdout", echoSample, Unit.Milliseconds),
            Row.Measured("5e", "raw `dotnet Nursery.ChildHost.dll` spawned with System.Diagnostics.Process → first byte of its Hello frame", hostSample, Unit.Milliseconds, Throughput.Ratio("5e ÷ 5d", hostSample.Median, echoSample.Median)),
        ];
    }

    /// <summary>Milliseconds from spawning <c>dotnet <paramref name="assembly"/></c> to the first byte on its stdout; then closes its stdin and waits (bounded) for it to leave.</summary>
    internal static async Task<double> RawStartAsync(string dotnet, string assembly, ChildPids pids)
    {
        if (!File.Exists(assembly))
            throw new BenchmarkException($"{assembly} is missing; build the solution first");
        var info = new ProcessStartInfo(dotnet)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(assembly);
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";

        var start = Stopwatch.GetTimestamp();
        using var process = Process.Start(info) ?? throw new BenchmarkException($"could not start {dotnet} {assembly}");
        pids.Track(process.Id);
        try
        {
            var buffer = new byte[1];
            using var timeout = new CancellationTokenSource(WorkerScope.Bound);
            var read = await process.StandardOutput.BaseStream.ReadAsync(buffer, timeout.Token);
            var elapsed = Stopwatch.GetElapsedTime(start);
            if (read == 0)
                throw new BenchmarkException($"{Path.GetFileName(assembly)} ended before writing anything");
            return elapsed.TotalMilliseconds;
        }
        finally
        {
            process.StandardInput.Close();
            using var exit = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await process.WaitForExitAsync(exit.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill();
                using var killed = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await process.WaitForExitAsync(killed.Token);
            }
        }
    }
}
