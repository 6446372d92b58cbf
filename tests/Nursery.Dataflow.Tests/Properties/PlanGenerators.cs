using FsCheck;
using FsCheck.Fluent;

namespace Nursery.Dataflow.Tests.Properties;

/// <summary>
/// Random pipelines in four families (<see cref="DotnetPlans"/>, <see cref="RetriedPlans"/>, <see cref="CommandPlans"/>,
/// <see cref="StoppedPlans"/>):
/// 1–4 stages (mostly 1–2) of .NET bodies, per-item <c>sh</c> commands or persistent Python workers, 1–3 workers each
/// (mostly 1: every child costs a start), random bounded capacities, ordered or not, 1–10 items, a fault on about one
/// item in four (a third of them transient: first attempt only), a throwing sink for about one item in twelve, and a
/// random policy. No shrinking: every case runs real children.
/// </summary>
public static class PlanGenerators
{
    /// <summary>
    /// About one token in eight has a grandchild (the body, the <c>sh</c> or the Python worker starts a <c>sleep 300</c>
    /// first); set to 0 to leave grandchildren out of the plans.
    /// </summary>
    public const string GrandchildrenVariable = "NURSERY_PROPS_GRANDCHILDREN";

    public static bool Grandchildren => Environment.GetEnvironmentVariable(GrandchildrenVariable) != "0";

    /// <summary>Pipelines of .NET stages only under fail fast or skip, run to the end.</summary>
    public static Gen<PipelinePlan> DotnetPlans => Plans(Gen.Constant(StageKind.Dotnet), Gen.Elements(PolicyPlan.FailFast, PolicyPlan.Skip), Gen.Constant(RunStop.None), _ => true);

    /// <summary>Pipelines of .NET stages only under a retry policy (where transient faults pass on the second attempt), run to the end.</summary>
    public static Gen<PipelinePlan> RetriedPlans =>
        Plans(Gen.Constant(StageKind.Dotnet), Gen.Elements(PolicyPlan.RetryThenFailFast, PolicyPlan.RetryThenSkip, PolicyPlan.RetryAlsoOnFaultedThenSkip), Gen.Constant(RunStop.None), _ => true);

    /// <summary>Pipelines with at least one command stage (per-item <c>sh</c> or persistent Python) among .NET stages, run to the end.</summary>
    public static Gen<PipelinePlan> CommandPlans =>
        Plans(Gen.Elements(StageKind.Dotnet, StageKind.PerItem, StageKind.Persistent), AnyPolicy, Gen.Constant(RunStop.None), stages => stages.Any(stage => stage.Kind != StageKind.Dotnet));

    /// <summary>Pipelines of any stages whose run is stopped by its deadline or by the caller's token, often before it ends.</summary>
    public static Gen<PipelinePlan> StoppedPlans =>
        Plans(
            Gen.Frequency((3, Gen.Constant(StageKind.Dotnet)), (1, Gen.Constant(StageKind.PerItem)), (1, Gen.Constant(StageKind.Persistent))),
            AnyPolicy,
            Gen.Frequency((1, Gen.Choose(50, 3000).Select(ms => new RunStop(StopKind.Deadline, ms))), (1, Gen.Choose(50, 3000).Select(ms => new RunStop(StopKind.Cancel, ms)))),
            _ => true);

    private static Gen<PolicyPlan> AnyPolicy => Gen.Elements(Enum.GetValues<PolicyPlan>());

    private static Gen<PipelinePlan> Plans(Gen<StageKind> kinds, Gen<PolicyPlan> policies, Gen<RunStop> stops, Func<StagePlan[], bool> wanted) =>
        from stageCount in Gen.Frequency((4, Gen.Constant(1)), (4, Gen.Constant(2)), (2, Gen.Constant(3)), (1, Gen.Constant(4)))
        from stages in Stage(kinds).ArrayOf(stageCount).Where(wanted)
        from itemCount in Gen.Choose(1, 10)
        from items in Gen.CollectToArray(Enumerable.Range(0, itemCount), index => Item(index, stages))
        from policy in policies
        from stop in stops
        from sourceDelay in Gen.Frequency((1, Gen.Constant(0)), (1, Gen.Choose(1, 30)))
        select new PipelinePlan(stages, items, policy, stop, sourceDelay);

    private static Gen<StagePlan> Stage(Gen<StageKind> kinds) =>
        from kind in kinds
        from workers in Gen.Frequency((5, Gen.Constant(1)), (3, Gen.Constant(2)), (1, Gen.Constant(3)))
        from perWorker in Gen.Elements(1, 2, 4, 32)
        from capacity in Gen.Elements(0, 1, 2, 5)
        from ordered in Gen.Elements(true, false)
        from eager in Gen.Elements(true, false)
        from timeout in Gen.Frequency((1, Gen.Constant(0)), (1, Gen.Choose(1000, 1500)))
        from heartbeat in Gen.Elements(false, true)
        from memory in MemoryLimits.Enforced && kind == StageKind.Dotnet ? Gen.Frequency((4, Gen.Constant(false)), (1, Gen.Constant(true))) : Gen.Constant(false)
        from initFails in kind != StageKind.PerItem ? Gen.Frequency((14, Gen.Constant(false)), (1, Gen.Constant(true))) : Gen.Constant(false)
        select new StagePlan(kind, workers, kind == StageKind.PerItem ? 1 : perWorker, capacity, ordered, eager, timeout, heartbeat && kind != StageKind.PerItem, memory, initFails);

    private static Gen<ItemPlan> Item(int index, StagePlan[] stages) =>
        from clean in Gen.CollectToArray(stages, _ => Clean)
        from faulty in Gen.Frequency((3, Gen.Constant(false)), (1, Gen.Constant(true)))
        from stage in Gen.Choose(0, stages.Length - 1)
        from fault in FaultFor(stages[stage])
        from transient in Gen.Frequency((2, Gen.Constant(false)), (1, Gen.Constant(true)))
        from grandchildren in Gen.CollectToArray(stages, _ => Grandchildren ? Gen.Frequency((7, Gen.Constant(false)), (1, Gen.Constant(true))) : Gen.Constant(false))
        from sink in Sink
        let faults = faulty ? clean.Select((f, i) => i == stage ? fault with { Transient = transient } : f) : clean
        select new ItemPlan(index, [.. faults.Select((f, i) => f with { Grandchild = grandchildren[i] })], sink);

    private static Gen<Fault> Clean =>
        Gen.Frequency((5, Gen.Constant(new Fault(FaultKind.Return))), (1, Gen.Choose(1, 40).Select(ms => new Fault(FaultKind.Slow, ms))));

    private static Gen<Fault> Sink =>
        Gen.Frequency(
            (22, Gen.Constant(new Fault(FaultKind.Return))),
            (1, Gen.Constant(new Fault(FaultKind.Throw))),
            (1, Gen.Constant(new Fault(FaultKind.Throw, Transient: true))));

    /// <summary>Only faults the stage can end and report: a hang needs an item timeout, a stop a timeout or heartbeats, an OOM an enforced limit, a throw a body that can throw.</summary>
    private static Gen<Fault> FaultFor(StagePlan stage) =>
        Gen.Frequency(
            new (int Weight, Gen<Fault> Fault)[]
            {
                (stage.Kind != StageKind.PerItem ? 2 : 0, Gen.Constant(new Fault(FaultKind.Throw))),
                (1, Gen.Choose(1, 120).Select(code => new Fault(FaultKind.Exit, code))),
                (1, Gen.Constant(new Fault(FaultKind.Kill))),
                (1, Gen.Choose(0, int.MaxValue).Select(seed => new Fault(FaultKind.Garbage, seed))),
                (stage.EndsAHang ? 2 : 0, Gen.Constant(new Fault(FaultKind.SleepForever))),
                (stage.EndsAStop ? 2 : 0, Gen.Constant(new Fault(FaultKind.Stop))),
                (stage.MemoryLimited ? 1 : 0, Gen.Constant(new Fault(FaultKind.OutOfMemory))),
            }.Where(choice => choice.Weight > 0));
}
