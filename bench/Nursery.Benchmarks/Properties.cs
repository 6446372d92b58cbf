using System.Diagnostics;
using System.Globalization;
using FsCheck;
using FsCheck.Fluent;
using Nursery.Testing;

namespace Nursery.Benchmarks;

/// <summary>
/// Row 14: a trivial property (the identity, asserted equal to its input) checked by FsCheck in-process, isolated
/// with <see cref="Isolated.RunAsync{TIn,TOut}(Func{TIn,TOut}, Arbitrary{TIn}, Func{TIn,TOut,bool}, IsolationOptions?, Config?, CancellationToken)"/>
/// (the child's start and reaping included), and isolated with a child already warm (<see cref="Isolation{TIn,TOut}"/>
/// kept across runs): the difference between 14a and 14c is the round trip per case.
/// </summary>
internal static class Properties
{
    private static readonly Arbitrary<int> Inputs = ArbMap.Default.ArbFor<int>();

    public static async Task<IReadOnlyList<Row>> RunAsync(Plan plan, ChildPids pids, TextWriter progress)
    {
        var cases = plan.PropertyCases;
        var config = Config.QuickThrowOnFailure.WithQuietOnSuccess(true).WithMaxTest(cases);
        List<double> inProcess = [], isolated = [], warm = [];
        var options = IsolationOptions.Default with { Worker = IsolationOptions.Default.Worker with { Name = "bench-property" } };
        var kept = Isolated.Start<int, int>(BenchBodies.Identity, options);
        await using (kept)
        {
            var warmProperty = kept.ForAll(Inputs, (x, y) => y == x);
            for (var run = -1; run < plan.Runs; run++)
            {
                var start = Stopwatch.GetTimestamp();
                Check.One(config, Prop.ForAll(Inputs, (int x) => BenchBodies.Identity(x) == x));
                var inProcessRate = cases / Stopwatch.GetElapsedTime(start).TotalSeconds;

                start = Stopwatch.GetTimestamp();
                var result = await Isolated.RunAsync<int, int>(BenchBodies.Identity, Inputs, (x, y) => y == x, options, config).WaitAsync(TimeSpan.FromMinutes(5));
                var isolatedRate = cases / Stopwatch.GetElapsedTime(start).TotalSeconds;
                foreach (var pid in result.ProcessIds)
                    pids.Track(pid);
                if (!result.Passed || result.Tests != cases || result.Spawns != 1)
                    throw new BenchmarkException($"the isolated property did not pass {cases} cases in one child: {result.Report}");

                start = Stopwatch.GetTimestamp();
                await Task.Factory.StartNew(() => Check.One(config, warmProperty), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).WaitAsync(TimeSpan.FromMinutes(5));
                var warmRate = cases / Stopwatch.GetElapsedTime(start).TotalSeconds;
                foreach (var pid in kept.ProcessIds)
                    pids.Track(pid);

                await progress.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  properties, {(run < 0 ? "warm-up" : $"run {run + 1}/{plan.Runs}")}: in-process {inProcessRate:N0} cases/s, isolated {isolatedRate:N0} cases/s, warm child {warmRate:N0} cases/s"));
                if (run < 0)
                    continue;
                inProcess.Add(inProcessRate);
                isolated.Add(isolatedRate);
                warm.Add(warmRate);
            }
            if (kept.Spawns != 1)
                throw new BenchmarkException($"the kept isolation started {kept.Spawns} children for passing cases");
        }
        var inProcessSample = new Sample(inProcess);
        var isolatedSample = new Sample(isolated);
        var warmSample = new Sample(warm);
        return
        [
            Row.Measured("14a", string.Create(CultureInfo.InvariantCulture, $"FsCheck in-process: `Check.One(Prop.ForAll(ints, x => Identity(x) == x))`, {cases:N0} cases/run"), inProcessSample, Unit.ItemsPerSecond, "reference for 14b, 14c"),
            Row.Measured("14b", string.Create(CultureInfo.InvariantCulture, $"the same property isolated: `Isolated.RunAsync(Identity, ints, (x, y) => y == x)`, one child started, used for every case and reaped within the run, {cases:N0} cases/run"), isolatedSample, Unit.ItemsPerSecond, Throughput.Ratio("14b ÷ 14a", isolatedSample.Median, inProcessSample.Median)),
            Row.Measured("14c", string.Create(CultureInfo.InvariantCulture, $"isolated with a warm child: `Check.One(isolation.ForAll(ints, …))` on an `Isolation` kept across runs, {cases:N0} cases/run"), warmSample, Unit.ItemsPerSecond, Throughput.Ratio("14c ÷ 14a", warmSample.Median, inProcessSample.Median)),
        ];
    }
}
