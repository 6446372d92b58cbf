using System.Globalization;
using Microsoft.Extensions.Logging;

namespace Nursery.Benchmarks;

/// <summary>
/// Rows 4b and 4c: from <c>kill(pid, SIGKILL)</c> on a one-child pool's child that is running an item to the next item
/// starting in its replacement, stamped with the wall clock in both processes. 4b replaces the child with a fresh
/// start, 4c with <see cref="PoolOptions.WarmSpare"/>; the two pools take turns, each kill after the pool has had time to
/// start its spare again.
/// </summary>
internal static class Replacement
{
    private const int SleepMilliseconds = 120_000;

    public static async Task<IReadOnlyList<Row>> RunAsync(Plan plan, ChildPids pids, TextWriter progress)
    {
        var repetitions = Math.Min(plan.KillRepetitions, 40);
        var settle = TimeSpan.FromMilliseconds(200);
        var fresh = new Measurement("4b", warmSpare: false);
        var spare = new Measurement("4c", warmSpare: true);
        List<double> spareRss = [];
        try
        {
            await fresh.Pool.StartAsync().WaitAsync(WorkerScope.Bound);
            await spare.Pool.StartAsync().WaitAsync(WorkerScope.Bound);
            for (var repetition = -1; repetition < repetitions; repetition++)
            {
                foreach (var measurement in (Measurement[])[fresh, spare])
                {
                    // A kill only once the spare is ready (a crash soon after another meets a spare still starting),
                    // then a pause that lets the spare's start leave the cores.
                    if (measurement == spare)
                        await WaitForSpareAsync(spare.Pool);
                    await Task.Delay(settle);
                    if (measurement == spare && repetition >= 0 && SpareRssMebibytes(spare.Pool) is { } rss)
                        spareRss.Add(rss);
                    await measurement.KillOnceAsync(repetition, pids);
                }
                if (repetition < 0 || (repetition + 1) % 10 == 0 || repetition + 1 == repetitions)
                    await progress.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  SIGKILL → next item running in the replacement, {(repetition < 0 ? "warm-up" : $"{repetition + 1}/{repetitions}")}: fresh start {fresh.Last:N2} ms, warm spare {spare.Last:N2} ms"));
            }
        }
        finally
        {
            await fresh.DisposeAsync(pids);
            await spare.DisposeAsync(pids);
        }
        var rssNote = spareRss.Count == 0 ? "" : string.Create(CultureInfo.InvariantCulture, $"; an idle spare's RSS: {new Sample(spareRss).Median:N1} MiB (median VmRSS)");
        var freshRow = fresh.Row($"SIGKILL to a one-child pool's child running an item → the next item starts in its replacement (a fresh start), {repetitions} kills; child wall clock at the item's start − parent wall clock at the kill", "");
        var spareRow = spare.Row(
            $"the same with `PoolOptions.WarmSpare = true` (the replacement is the ready spare), kills interleaved with 4b's",
            fresh.Latencies.Count > 0 && spare.Latencies.Count > 0 ? Throughput.Ratio("4c ÷ 4b", new Sample(spare.Latencies).Median, new Sample(fresh.Latencies).Median) + " (target 4c ≤ 5 ms)" + rssNote : rssNote
        );
        return [freshRow, spareRow];
    }

    private static async Task WaitForSpareAsync(WorkerPool<int, long> pool)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (pool.SpareProcessId == 0)
        {
            if (waited.Elapsed > WorkerScope.Bound)
                throw new BenchmarkException($"the warm spare was not ready within {WorkerScope.Bound.TotalSeconds} s");
            await Task.Delay(10);
        }
    }

    private static double? SpareRssMebibytes(WorkerPool<int, long> pool)
    {
        var newest = pool.SpareProcessId;
        try
        {
            foreach (var line in File.ReadLines($"/proc/{newest}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                    return double.Parse(line["VmRSS:".Length..].Replace("kB", "", StringComparison.Ordinal).Trim(), CultureInfo.InvariantCulture) / 1024;
            }
        }
        catch (IOException) { }
        return null;
    }

    private sealed class Measurement
    {
        private readonly PidMarker _marker = new();
        private readonly string _id;

        public Measurement(string id, bool warmSpare)
        {
            _id = id;
            Pool = new WorkerPool<int, long>(
                Body.FromAsync<int, long>(BenchBodies.SleepOrStamp),
                new PoolOptions
                {
                    Workers = 1,
                    WarmSpare = warmSpare,
                    RestartIntensity = new RestartIntensity(1_000_000, TimeSpan.FromSeconds(1)),
                    Worker = new WorkerOptions { Name = "bench-replace-" + id, Logger = _marker },
                }
            );
        }

        public WorkerPool<int, long> Pool { get; }

        public List<double> Latencies { get; } = [];

        public List<string> Problems { get; } = [];

        public double Last { get; private set; }

        public async Task KillOnceAsync(int repetition, ChildPids pids)
        {
            var running = _marker.Next();
            var sleeping = Pool.InvokeAsync(SleepMilliseconds, key: string.Create(CultureInfo.InvariantCulture, $"sleep-{repetition}"));
            var pid = await running.WaitAsync(WorkerScope.Bound);
            pids.Track(pid);

            var killedAt = DateTime.UtcNow.Ticks;
            Signals.Kill(pid);
            var next = await Pool.InvokeAsync(0, key: string.Create(CultureInfo.InvariantCulture, $"next-{repetition}")).WaitAsync(WorkerScope.Bound);
            var crashed = await sleeping.WaitAsync(WorkerScope.Bound);

            foreach (var started in Pool.ProcessIds)
                pids.Track(started);
            Last = next.Match(startedAt => (startedAt - killedAt) / (double)TimeSpan.TicksPerMillisecond, _ => double.NaN);
            if (repetition < 0)
                return;
            if (next.IsLeft)
                Problems.Add($"repetition {repetition + 1}: the next item failed: {next.Match(_ => "", failure => failure.Summary)}");
            else if (!crashed.Match(static _ => false, static failure => failure is ChildFailure.Crashed { Signal.IsSome: true }))
                Problems.Add($"repetition {repetition + 1}: expected the killed item to be Crashed, got {crashed.Match(value => $"the result {value}", failure => failure.Summary)}");
            else
                Latencies.Add(Last);
        }

        public Row Row(string workload, string ratio) =>
            Latencies.Count == 0 ? Benchmarks.Row.Failed(_id, workload, Unit.Milliseconds, string.Join("; ", Problems)) : Benchmarks.Row.Measured(_id, workload, new Sample(Latencies), Unit.Milliseconds, ratio, Problems);

        public async Task DisposeAsync(ChildPids pids)
        {
            foreach (var started in Pool.ProcessIds)
                pids.Track(started);
            await Pool.DisposeAsync().AsTask().WaitAsync(WorkerScope.Bound);
        }
    }

    /// <summary>A logger that completes the task of <see cref="Next"/> with the pid a child names in <see cref="BenchBodies.SleepingMarker"/>.</summary>
    private sealed class PidMarker : ILogger
    {
        private TaskCompletionSource<int> _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<int> Next()
        {
            var next = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
            Volatile.Write(ref _next, next);
            return next.Task;
        }

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            ArgumentNullException.ThrowIfNull(formatter);
            var line = formatter(state, exception);
            var at = line.IndexOf(BenchBodies.SleepingMarker + " in pid ", StringComparison.Ordinal);
            if (at < 0)
                return;
            var digits = new string([.. line[(at + BenchBodies.SleepingMarker.Length + " in pid ".Length)..].TakeWhile(char.IsAsciiDigit)]);
            if (int.TryParse(digits, CultureInfo.InvariantCulture, out var pid))
                Volatile.Read(ref _next).TrySetResult(pid);
        }
    }
}
