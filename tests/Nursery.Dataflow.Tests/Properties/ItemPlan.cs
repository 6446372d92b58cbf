using Nursery.TestBodies;

namespace Nursery.Dataflow.Tests.Properties;

/// <summary>One item and its fault per stage.</summary>
public sealed record ItemPlan(int Index, IReadOnlyList<Fault> Faults)
{
    public long InitialValue => Index * 7L + 1;

    public string Plan => string.Join('/', Faults.Select(fault => fault.Token));

    /// <summary>The first stage where the item fails, if any.</summary>
    public int? FailingStage
    {
        get
        {
            for (var stage = 0; stage < Faults.Count; stage++)
                if (Faults[stage].Fails)
                    return stage;
            return null;
        }
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
}
