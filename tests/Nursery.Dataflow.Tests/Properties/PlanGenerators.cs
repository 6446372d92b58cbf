using FsCheck;
using FsCheck.Fluent;

namespace Nursery.Dataflow.Tests.Properties;

/// <summary>
/// Random pipelines: 1–4 stages (mostly 1–2), 1–3 workers each (mostly 1: every child costs a runtime start), random bounded capacities, ordered or not, 1–10 items,
/// a fault on about one item in four, and a random policy. No shrinking: every case runs real children.
/// </summary>
public static class PlanGenerators
{
    /// <summary>The arbitrary FsCheck.Xunit finds through <see cref="PipelinePropertyAttribute"/>.</summary>
    public static Arbitrary<PipelinePlan> Pipelines() => Arb.From(Plans);

    public static Gen<PipelinePlan> Plans =>
        from stageCount in Gen.Frequency((4, Gen.Constant(1)), (4, Gen.Constant(2)), (2, Gen.Constant(3)), (1, Gen.Constant(4)))
        from stages in Stage.ArrayOf(stageCount)
        from itemCount in Gen.Choose(1, 10)
        from items in Gen.CollectToArray(Enumerable.Range(0, itemCount), index => Item(index, stages))
        from policy in Gen.Elements(Enum.GetValues<PolicyPlan>())
        select new PipelinePlan(stages, items, policy);

    private static Gen<StagePlan> Stage =>
        from workers in Gen.Frequency((5, Gen.Constant(1)), (3, Gen.Constant(2)), (1, Gen.Constant(3)))
        from perWorker in Gen.Elements(1, 2, 4, 32)
        from capacity in Gen.Elements(0, 1, 2, 5)
        from ordered in Gen.Elements(true, false)
        from eager in Gen.Elements(true, false)
        from timeout in Gen.Frequency((2, Gen.Constant(0)), (1, Gen.Choose(1000, 1500)))
        from heartbeat in Gen.Frequency((3, Gen.Constant(false)), (1, Gen.Constant(true)))
        from memory in MemoryLimits.Enforced ? Gen.Frequency((4, Gen.Constant(false)), (1, Gen.Constant(true))) : Gen.Constant(false)
        from initFails in Gen.Frequency((14, Gen.Constant(false)), (1, Gen.Constant(true)))
        select new StagePlan(workers, perWorker, capacity, ordered, eager, timeout, heartbeat, memory, initFails);

    private static Gen<ItemPlan> Item(int index, StagePlan[] stages) =>
        from clean in Gen.CollectToArray(stages, _ => Clean)
        from faulty in Gen.Frequency((3, Gen.Constant(false)), (1, Gen.Constant(true)))
        from stage in Gen.Choose(0, stages.Length - 1)
        from fault in FaultFor(stages[stage])
        select new ItemPlan(index, faulty ? [.. clean.Select((f, i) => i == stage ? fault : f)] : clean);

    private static Gen<Fault> Clean =>
        Gen.Frequency((5, Gen.Constant(new Fault(FaultKind.Return))), (1, Gen.Choose(1, 40).Select(ms => new Fault(FaultKind.Slow, ms))));

    /// <summary>Only faults the stage can end: a hang needs an item timeout, a stop needs fast heartbeats, an OOM an enforced limit.</summary>
    private static Gen<Fault> FaultFor(StagePlan stage) =>
        Gen.Frequency(
            new (int Weight, Gen<Fault> Fault)[]
            {
                (2, Gen.Constant(new Fault(FaultKind.Throw))),
                (1, Gen.Choose(1, 120).Select(code => new Fault(FaultKind.Exit, code))),
                (1, Gen.Constant(new Fault(FaultKind.Kill))),
                (1, Gen.Constant(new Fault(FaultKind.Garbage))),
                (stage.ItemTimeoutMs > 0 ? 1 : 0, Gen.Constant(new Fault(FaultKind.SleepForever))),
                (stage.FastHeartbeat ? 1 : 0, Gen.Constant(new Fault(FaultKind.Stop))),
                (stage.MemoryLimited ? 1 : 0, Gen.Constant(new Fault(FaultKind.OutOfMemory))),
            }.Where(choice => choice.Weight > 0));
}
