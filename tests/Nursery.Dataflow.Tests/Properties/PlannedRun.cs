using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Nursery.TestBodies;
using Nursery.Tests.Support;

namespace Nursery.Dataflow.Tests.Properties;

/// <summary>What one run of a plan showed: the result (None when RunAsync did not return within the bound), what reached the sink, and the children left alive.</summary>
public sealed record PlannedRun(PipelinePlan Plan, PipelineResult? Result, TimeSpan Elapsed, bool DisposedInTime, IReadOnlyList<PlannedItem> Delivered, IReadOnlyList<int> ProcessIds, IReadOnlyList<int> AliveAfterwards)
{
    public bool Returned => Result is not null;

    /// <summary>The plan, then what happened: printed with every failed assertion so the case can be read and replayed.</summary>
    public string Describe(string what) =>
        $"{what}\n{Plan}\nreturned={Returned} after {Elapsed.TotalSeconds:F1} s (bound {Plan.Bound.TotalSeconds:F0} s), disposed in time={DisposedInTime}\n"
        + $"delivered: {string.Join(' ', Delivered.OrderBy(item => item.Index).Select(item => $"{item.Index}:{item.Value}"))}\n"
        + $"pids: {string.Join(' ', ProcessIds)}; alive afterwards: {string.Join(' ', AliveAfterwards.Select(pid => $"{pid} ({Processes.Describe(pid)})"))}\n"
        + $"result: {Result?.ToString() ?? "(none: RunAsync did not return)"}\n"
        + $"failures: {string.Join("; ", Result?.Failures.Select(failure => $"{failure.Stage}/{failure.Key}: {failure.Kind} ({failure.Summary})") ?? [])}";
}

/// <summary>Builds the plan's pipeline in a scope, runs it with a hang detector, disposes the scope and checks its children.</summary>
public static partial class PlannedRuns
{
    private static readonly TimeSpan DisposeBound = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan GoneWithin = TimeSpan.FromSeconds(5);

    /// <summary>Runs the plan; never throws for what the pipeline does, never waits unboundedly.</summary>
    public static PlannedRun Run(PipelinePlan plan) => RunAsync(plan).GetAwaiter().GetResult();

    public static async Task<PlannedRun> RunAsync(PipelinePlan plan)
    {
        var delivered = new ConcurrentBag<PlannedItem>();
        var options = new NurseryOptions { DefaultPolicy = plan.ToPolicy(), KillGrace = TimeSpan.FromMilliseconds(200), DrainTimeout = TimeSpan.FromSeconds(2) };
        var scope = new NurseryScope(options);
        var stages = new List<Stage<PlannedItem, PlannedItem>>();
        PipelineResult? result = null;
        var watch = Stopwatch.StartNew();
        try
        {
            for (var index = 0; index < plan.Stages.Count; index++)
                stages.Add(Build(scope, plan.Stages[index], index));
            for (var index = 1; index < stages.Count; index++)
                stages[index - 1].LinkTo(stages[index]);
            stages[^1].LinkTo(scope.Sink<PlannedItem>(delivered.Add));

            watch.Restart();
            result = await scope.RunAsync(plan.Items.Select(item => item.ToItem()), stages[0], key: item => item.Index.ToString(CultureInfo.InvariantCulture)).WaitAsync(plan.Bound);
        }
        catch (TimeoutException)
        {
            // A hang: the result stays null and the properties report it with the plan.
        }
        var elapsed = watch.Elapsed;

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
        var alive = new List<int>();
        foreach (var pid in pids)
            if (!await Processes.GoneWithinAsync(pid, GoneWithin))
                alive.Add(pid);
        foreach (var pid in alive)
            _ = kill(pid, Processes.SigKill); // clean up after a failing case: only pids this run started
        return new PlannedRun(plan, result, elapsed, disposedInTime, [.. delivered], pids, alive);
    }

    private static Stage<PlannedItem, PlannedItem> Build(NurseryScope scope, StagePlan plan, int index)
    {
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
        var worker = plan.FastHeartbeat ? new WorkerOptions { HeartbeatInterval = StagePlan.HeartbeatInterval, HeartbeatTimeout = StagePlan.HeartbeatTimeout } : new WorkerOptions();
        var options = new StageOptions
        {
            Name = $"s{index}",
            Workers = plan.Workers,
            ItemsPerWorker = plan.ItemsPerWorker,
            BoundedCapacity = plan.BoundedCapacity,
            Ordered = plan.Ordered,
            StartEagerly = plan.StartEagerly,
            ItemTimeout = plan.ItemTimeout,
            MemoryLimit = plan.MemoryLimited ? StagePlan.MemoryLimit : 0,
            // A failing initializer should fail the stage quickly; item faults (up to 10 items × 2 attempts) must not.
            RestartIntensity = plan.InitializerFails ? new RestartIntensity(2, TimeSpan.FromSeconds(30)) : new RestartIntensity(100, TimeSpan.FromSeconds(30)),
            Worker = worker,
        };
        return scope.Stage(body, options);
    }

    [LibraryImport("libc")]
    private static partial int kill(int pid, int signal);
}
