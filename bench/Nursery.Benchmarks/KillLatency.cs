using System.Diagnostics;
using System.Globalization;

namespace Nursery.Benchmarks;

/// <summary>
/// Row 4: from <c>kill(pid, SIGKILL)</c> on a child that is running an item to that item's task completing with
/// <see cref="ChildFailure.Crashed"/>. A fresh worker per repetition; the child says on stderr when it holds the item,
/// so the kill never races the send.
/// </summary>
internal static class KillLatency
{
    private const int SleepMilliseconds = 120_000;

    public static async Task<Row> RunAsync(Plan plan, ChildPids pids, TextWriter progress)
    {
        List<double> latencies = [];
        List<string> problems = [];
        for (var repetition = -1; repetition < plan.KillRepetitions; repetition++)
        {
            var signal = new StderrSignal(BenchBodies.SleepingMarker);
            await using var scope = new WorkerScope(pids);
            var worker = await scope.StartAsync(Body.FromAsync<int, int>(BenchBodies.SleepThenAnswer), new WorkerOptions { Name = "bench-kill", Logger = signal });
            var item = worker.InvokeAsync(SleepMilliseconds, key: string.Create(CultureInfo.InvariantCulture, $"kill-{repetition}"));
            await signal.Seen.WaitAsync(WorkerScope.Bound);

            var start = Stopwatch.GetTimestamp();
            Signals.Kill(worker.ProcessId);
            var result = await item.WaitAsync(WorkerScope.Bound);
            var elapsed = Stopwatch.GetElapsedTime(start);

            var crashedBySigkill = result.Match(static _ => false, static failure => failure is ChildFailure.Crashed crashed && crashed.Signal == LanguageExt.Option<int>.Some(9));
            if (repetition >= 0)
            {
                if (crashedBySigkill)
                    latencies.Add(elapsed.TotalMilliseconds);
                else
                    problems.Add($"repetition {repetition + 1}: expected Crashed with signal 9, got {result.Match(value => $"the result {value}", failure => failure.Summary)}");
            }
            if (repetition < 0 || (repetition + 1) % 10 == 0 || repetition + 1 == plan.KillRepetitions)
                await progress.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  SIGKILL → Crashed, {(repetition < 0 ? "warm-up" : $"{repetition + 1}/{plan.KillRepetitions}")}: {elapsed.TotalMilliseconds:N2} ms"));
            await scope.DisposeWorkerAsync(worker);
        }
        const string workload = "SIGKILL to a child running an item (async sleep) → its InvokeAsync task completes with Left(Crashed, signal 9); fresh worker each time";
        return latencies.Count == 0 ? Row.Failed("4", workload, Unit.Milliseconds, string.Join("; ", problems)) : Row.Measured("4", workload, new Sample(latencies), Unit.Milliseconds, problems: problems);
    }
}
