using System.Globalization;
using System.Text;

namespace Nursery.Dataflow.Tests.Properties;

/// <summary>A whole random case: the pipeline, the items with their faults, and the policy. Printed when a property fails.</summary>
public sealed record PipelinePlan(IReadOnlyList<StagePlan> Stages, IReadOnlyList<ItemPlan> Items, PolicyPlan Policy)
{
    public bool SkipsFailures => Policy is PolicyPlan.Skip or PolicyPlan.RetryThenSkip or PolicyPlan.RetryAlsoOnFaultedThenSkip;

    public bool HasItemFaults => Items.Any(item => item.FailingStage is not null);

    public bool HasInitializerFailure => Stages.Any(stage => stage.InitializerFails);

    public int Attempts => Policy is PolicyPlan.FailFast or PolicyPlan.Skip ? 1 : 2;

    public Policy ToPolicy() =>
        Policy switch
        {
            PolicyPlan.FailFast => Nursery.Policy.FailFast,
            PolicyPlan.Skip => Nursery.Policy.Skip,
            PolicyPlan.RetryThenFailFast => Nursery.Policy.Retry(2).WithBackoff(TimeSpan.Zero),
            PolicyPlan.RetryThenSkip => Nursery.Policy.Retry(2).WithBackoff(TimeSpan.Zero).ThenSkip(),
            _ => Nursery.Policy.Retry(2).WithBackoff(TimeSpan.Zero).AlsoOnFaulted().ThenSkip(),
        };

    /// <summary>A generous hang detector, not a speed check: 30 s plus every planned timeout on every attempt.</summary>
    public TimeSpan Bound
    {
        get
        {
            var waits = TimeSpan.Zero;
            foreach (var item in Items)
                for (var stage = 0; stage < Stages.Count; stage++)
                    waits += item.Faults[stage].Kind switch
                    {
                        FaultKind.SleepForever => Stages[stage].ItemTimeout * Attempts,
                        FaultKind.Stop => StagePlan.HeartbeatTimeout * Attempts,
                        FaultKind.Slow => TimeSpan.FromMilliseconds(item.Faults[stage].Argument),
                        _ => TimeSpan.Zero,
                    };
            return TimeSpan.FromSeconds(30) + waits;
        }
    }

    /// <summary>Whether the failure is one the plan injected: the item's first failing stage with a case its fault may cause, or a stage whose initializer fails.</summary>
    public bool IsInjected(ChildFailure failure)
    {
        if (!failure.Stage.StartsWith('s') || !int.TryParse(failure.Stage.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out var stage) || stage >= Stages.Count)
            return false;
        if (failure is ChildFailure.StartFailed)
            return Stages[stage].InitializerFails;
        if (!int.TryParse(failure.Key, NumberStyles.None, CultureInfo.InvariantCulture, out var index) || index >= Items.Count)
            return false;
        var item = Items[index];
        return item.FailingStage == stage && item.Faults[stage].ExpectedKinds.Contains(failure.Kind);
    }

    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"plan: policy={Policy}, {Stages.Count} stage(s), {Items.Count} item(s)");
        for (var stage = 0; stage < Stages.Count; stage++)
            text.Append(CultureInfo.InvariantCulture, $"; s{stage}: {Stages[stage]}");
        text.Append("; items: ").Append(string.Join(' ', Items.Select(item => $"{item.Index}={item.Plan}")));
        return text.ToString();
    }
}
