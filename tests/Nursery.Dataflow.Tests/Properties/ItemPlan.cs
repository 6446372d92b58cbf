using Nursery.TestBodies;

namespace Nursery.Dataflow.Tests.Properties;

/// <summary>One item: its fault per stage, and what the sink does with it (<see cref="FaultKind.Throw"/>, possibly transient, or <see cref="FaultKind.Return"/>).</summary>
public sealed record ItemPlan(int Index, IReadOnlyList<Fault> Faults, Fault SinkFault)
{
    public long InitialValue => Index * 7L + 1;

    public string Plan => string.Join('/', Faults.Select(fault => fault.Token));

    /// <summary>The first stage where the item cannot come through under the policy (<see cref="Faults"/>.Count for the sink), if any.</summary>
    public int? FailingStage(Policy policy)
    {
        for (var stage = 0; stage < Faults.Count; stage++)
            if (Faults[stage].FailsUnder(policy))
                return stage;
        return SinkFault.FailsUnder(policy) ? Faults.Count : null;
    }

    /// <summary>The value the last stage returns when nothing fails.</summary>
    public long ExpectedValue
    {
        get
        {
            var value = InitialValue;
            for (var stage = 0; stage < Faults.Count; stage++)
                value = PlannedBodies.Next(value, stage);
            return value;
        }
    }

    public PlannedItem ToItem() => new(Index, InitialValue, Plan);

    /// <summary>The plan as printed: the stages' tokens, then the sink's when it throws.</summary>
    public override string ToString() =>
        string.Join('/', Faults.Select(fault => fault.ToString())) + (SinkFault.IsFault ? $"|sink:{SinkFault}" : "");
}
