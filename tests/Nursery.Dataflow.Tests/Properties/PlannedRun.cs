using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Nursery.TestBodies;
using Nursery.Tests.Support;

namespace Nursery.Dataflow.Tests.Properties;

/// <summary>
/// What one run of a plan showed: the result (null when RunAsync did not return within the bound), how many items the
/// source yielded, what reached the sink, the pids the library reported, the pids the bodies recorded themselves, and the run's processes still alive
/// after the scope was disposed (found in /proc by the run's environment variable, see <see cref="RunProcesses"/>).
/// </summary>
public sealed record PlannedRun(PipelinePlan Plan, PipelineResult? Result, int Yielded, TimeSpan Elapsed, bool DisposedInTime, IReadOnlyList<PlannedItem> Delivered, IReadOnlyList<int> ProcessIds, IReadOnlyList<int> BodyProcessIds, IReadOnlyList<string> AliveAfterwards)
{
    public bool Returned => Result is not null;

    /// <summary>The plan, then what happened: printed with every failed assertion so the case can be read and replayed.</summary>
    public string Describe(string what) =>
        $"{what}\n{Plan}\nreturned={Returned} after {Elapsed.TotalSeconds:F1} s (bound {Plan.Bound.TotalSeconds:F0} s), disposed in time={DisposedInTime}\n"
        + $"delivered: {string.Join(' ', Delivered.OrderBy(item => item.Index).Select(item => $"{item.Index}:{item.Value}"))}\n"
        + $"pids reported by the stages: {string.Join(' ', ProcessIds)}; recorded by the bodies: {string.Join(' ', BodyProcessIds)}\n"
        + $"alive afterwards: {(AliveAfterwards.Count == 0 ? "none" : string.Join("; ", AliveAfterwards))}\n"
        + $"result: {Result?.ToString() ?? "(none: RunAsync did not return)"}\n"
        + $"failures: {string.Join("; ", Result?.Failures.Select(failure => $"{failure.Stage}/{failure.Key}: {failure.Kind} ({failure.Summary})") ?? [])}\n"
        + "replay: the seed is in FsCheck's message above ('Falsifiable, after N tests … (seed,gamma)'); run with NURSERY_PROPERTY_REPLAY=\"(seed,gamma)\"";

    /// <summary>
    /// The promise every case must keep, whatever the property: RunAsync returned within the bound, the scope disposed
    /// in time, no process of the run outlives it, and every input is accounted for once (by key, against what the sink got).
    /// </summary>
    public void AssertThePromise()
    {
        Assert.True(Returned, Describe("RunAsync did not return within the bound"));
        Assert.True(DisposedInTime, Describe("disposing the scope did not finish within 30 s"));
        Assert.True(AliveAfterwards.Count == 0, Describe("processes of the run still alive 5 s after the scope was disposed"));
        AssertEveryInputIsAccountedForOnce();
    }

    /// <summary>The books balance, and by key: each input read is either delivered to the sink or listed as a failure, once.</summary>
    public void AssertEveryInputIsAccountedForOnce()
    {
        var result = Result;
        Assert.True(result is not null, Describe("RunAsync did not return"));
        var succeeded = Delivered.Select(item => item.Index.ToString(CultureInfo.InvariantCulture)).ToArray();
        var failed = result.Failures.Select(failure => failure.Key).ToArray();
        var outcomes = succeeded.Concat(failed).Order(StringComparer.Ordinal).ToArray();
        // An aborted run stops reading the source, but counts every item the source yielded; a completed run read them all.
        var read = Yielded;
        var inputs = Plan.Items.Take(read).Select(item => item.Index.ToString(CultureInfo.InvariantCulture)).Order(StringComparer.Ordinal).ToArray();
        Assert.True(result.IsBalanced, Describe("the result is not balanced"));
        Assert.True(!result.Completed || read == Plan.Items.Count, Describe($"the run completed, but the source yielded {read} of {Plan.Items.Count}"));
        Assert.True(result.Inputs == read && read <= Plan.Items.Count, Describe($"Inputs is {result.Inputs}, but the source yielded {Yielded} of {Plan.Items.Count}"));
        Assert.True(result.Succeeded == succeeded.Length, Describe($"Succeeded is {result.Succeeded} but the sink got {succeeded.Length}"));
        Assert.True(result.Failed == failed.Length, Describe($"Failed is {result.Failed} but Failures lists {failed.Length}"));
        Assert.True(outcomes.SequenceEqual(inputs), Describe($"outcomes by key [{string.Join(',', outcomes)}] are not each input once [{string.Join(',', inputs)}]"));
    }
}

/// <summary>Builds the plan's pipeline in a scope, runs it with a hang detector, disposes the scope and looks for its processes.</summary>
public static partial class PlannedRuns
{
    private static readonly TimeSpan DisposeBound = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan GoneWithin = TimeSpan.FromSeconds(5);
    private static readonly Lazy<string> Python = new(FindPython);

    /// <summary>Runs the plan; never throws for what the pipeline does, never waits unboundedly.</summary>
    public static PlannedRun Run(PipelinePlan plan) => RunAsync(plan).GetAwaiter().GetResult();

    public static async Task<PlannedRun> RunAsync(PipelinePlan plan)
    {
        // The run's directory (new, private, unique) is also its mark: every process of the run has it in its environment.
        var directory = Directory.CreateTempSubdirectory($"nursery-props-{Environment.ProcessId}-").FullName;
        var environment = new Dictionary<string, string> { [PlannedBodies.RunVariable] = directory };
        var delivered = new ConcurrentBag<PlannedItem>();
        var sinkFailedOnce = new ConcurrentDictionary<int, bool>();
        var options = new NurseryOptions
        {
            DefaultPolicy = plan.ToPolicy(),
            DrainTimeout = TimeSpan.FromSeconds(2),
            Deadline = plan.Stop.Kind == StopKind.Deadline ? plan.Stop.After : Timeout.InfiniteTimeSpan,
        };
        var scope = new NurseryScope(options);
        var stages = new List<Stage<PlannedItem, PlannedItem>>();
        using var caller = new CancellationTokenSource();
        PipelineResult? result = null;
        var yielded = 0;
        var watch = Stopwatch.StartNew();
        try
        {
            for (var index = 0; index < plan.Stages.Count; index++)
                stages.Add(Build(scope, plan.Stages[index], index, environment));
            for (var index = 1; index < stages.Count; index++)
                stages[index - 1].LinkTo(stages[index]);
            stages[^1].LinkTo(scope.Sink<PlannedItem>(item => Deliver(plan, item, delivered, sinkFailedOnce), new SinkOptions { Name = PipelinePlan.SinkName }));

            if (plan.Stop.Kind == StopKind.Cancel)
                caller.CancelAfter(plan.Stop.After);
            watch.Restart();
            result = await scope.RunAsync(Source(), stages[0], key: item => item.Index.ToString(CultureInfo.InvariantCulture), caller.Token).WaitAsync(plan.Bound);
        }
        catch (TimeoutException)
        {
            // A hang: the result stays null and the properties report it with the plan.
        }
        var elapsed = watch.Elapsed;

        // Counts what it yields; a slow one deliberately ignores the run's token, as a source that dequeues may.
        async IAsyncEnumerable<PlannedItem> Source()
        {
            foreach (var item in plan.Items)
            {
                if (plan.SourceDelayMs > 0)
                    await Task.Delay(plan.SourceDelayMs, CancellationToken.None);
                Interlocked.Increment(ref yielded);
                yield return item.ToItem();
            }
        }

        var disposedInTime = true;
        try
        {
            await scope.DisposeAsync().AsTask().WaitAsync(DisposeBound);
        }
        catch (TimeoutException)
        {
            disposedInTime = false;
        }

        var pids = stages.SelectMany(stage => stage.ProcessIds).Distinct().ToArray();
        var recorded = Directory.EnumerateFiles(directory, "pid-*").Select(file => int.Parse(Path.GetFileName(file)[4..], CultureInfo.InvariantCulture)).Order().ToArray();
        var alive = await StillAliveAsync(directory, pids.Concat(recorded).Distinct().ToArray());
        var descendants = RunProcesses.Descendants(Environment.ProcessId);
        var described = alive.Select(pid => RunProcesses.Describe(pid, descendants)).ToArray();
        foreach (var pid in alive)
            _ = kill(pid, Processes.SigKill); // clean up after a failing case: only this run's processes
        Directory.Delete(directory, recursive: true);
        return new PlannedRun(plan, result, Volatile.Read(ref yielded), elapsed, disposedInTime, [.. delivered], pids, recorded, described);
    }

    /// <summary>The sink: an item planned to throw there throws (once only when transient); the rest are delivered.</summary>
    private static void Deliver(PipelinePlan plan, PlannedItem item, ConcurrentBag<PlannedItem> delivered, ConcurrentDictionary<int, bool> failedOnce)
    {
        var fault = item.Index < plan.Items.Count ? plan.Items[item.Index].SinkFault : default;
        if (fault.IsFault && (!fault.Transient || failedOnce.TryAdd(item.Index, true)))
            throw new InvalidOperationException($"planned sink throw for item {item.Index}");
        delivered.Add(item);
    }

    /// <summary>The run's processes alive after up to 5 s: those marked with the run's directory, and those the stages or bodies named.</summary>
    private static async Task<IReadOnlyList<int>> StillAliveAsync(string directory, IReadOnlyList<int> named)
    {
        var deadline = DateTime.UtcNow + GoneWithin;
        while (true)
        {
            var alive = Processes.Marked(PlannedBodies.RunVariable, directory).Concat(named.Where(Processes.IsAlive)).Distinct().Order().ToArray();
            if (alive.Length == 0 || DateTime.UtcNow >= deadline)
                return alive;
            await Task.Delay(50);
        }
    }

    private static Stage<PlannedItem, PlannedItem> Build(NurseryScope scope, StagePlan plan, int index, IReadOnlyDictionary<string, string> environment)
    {
        var worker = plan.FastHeartbeat ? new WorkerOptions { HeartbeatInterval = StagePlan.HeartbeatInterval, HeartbeatTimeout = StagePlan.HeartbeatTimeout } : new WorkerOptions();
        worker = worker with { KillGrace = TimeSpan.FromMilliseconds(200), ItemTimeout = plan.ItemTimeout, MemoryLimit = plan.MemoryLimited ? StagePlan.MemoryLimit : null };
        var options = new StageOptions
        {
            Name = $"s{index}",
            Workers = plan.Workers,
            ItemsPerWorker = plan.ItemsPerWorker,
            BoundedCapacity = plan.BoundedCapacity > 0 ? plan.BoundedCapacity : null,
            Ordered = plan.Ordered,
            StartEagerly = plan.StartEagerly,
            // A failing initializer should fail the stage quickly; item faults (up to 10 items × 2 attempts) must not.
            RestartIntensity = plan.InitializerFails ? new RestartIntensity(2, TimeSpan.FromSeconds(30)) : new RestartIntensity(100, TimeSpan.FromSeconds(30)),
            Worker = worker with { Environment = environment },
        };
        var stage = index.ToString(CultureInfo.InvariantCulture);
        switch (plan.Kind)
        {
            case StageKind.PerItem:
                var perItem = Command.PerItem<PlannedItem, PlannedItem>("sh", "-c", PlannedCommands.Shell, "sh", stage)
                    .WithStdin(true)
                    .WithFormatter(item => PlannedCommands.FormatForShell(item, index))
                    .WithParser(PlannedCommands.ParseShellOutput);
                return scope.CommandStage(perItem, options);
            case StageKind.Persistent:
                var persistent = Command.Persistent<PlannedItem, PlannedItem>(Python.Value, "-c", PlannedCommands.Python, stage)
                    .WithHandshake(heartbeats: plan.FastHeartbeat)
                    .WithEnvironment(new Dictionary<string, string>
                    {
                        ["NURSERY_PROPS_BEAT"] = plan.FastHeartbeat ? "1" : "0",
                        ["NURSERY_PROPS_INIT_FAILS"] = plan.InitializerFails ? "1" : "0",
                    });
                return scope.CommandStage(persistent, options);
            default:
                Func<PlannedItem, PlannedItem> function = index switch
                {
                    0 => PlannedBodies.Stage0,
                    1 => PlannedBodies.Stage1,
                    2 => PlannedBodies.Stage2,
                    _ => PlannedBodies.Stage3,
                };
                var body = Body.From(function);
                if (plan.InitializerFails)
                    body = body.WithInitializer(PlannedBodies.FailingInit);
                return scope.Stage(body, options);
        }
    }

    /// <summary>The real python3 (not a version manager's shim script), so a Python worker is one process.</summary>
    private static string FindPython()
    {
        using var process = Process.Start(new ProcessStartInfo("python3", ["-c", "import sys; print(sys.executable)"]) { RedirectStandardOutput = true, UseShellExecute = false })!;
        try
        {
            var path = process.StandardOutput.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(30)).GetAwaiter().GetResult().Trim();
            return File.Exists(path) ? path : "python3";
        }
        catch (TimeoutException)
        {
            process.Kill();
            return "python3";
        }
    }

    [LibraryImport("libc")]
    private static partial int kill(int pid, int signal);
}
