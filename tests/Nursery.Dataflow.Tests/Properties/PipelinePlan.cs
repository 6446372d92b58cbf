using System.Globalization;
using System.Text;

namespace Nursery.Dataflow.Tests.Properties;

/// <summary>
/// A whole random case: the pipeline, the items with their faults, the policy, an early stop, and how long the source
/// takes to give each item (a slow source that ignores the run's token, so an abort often comes while it is reading).
/// Printed when a property fails.
/// </summary>
public sealed record PipelinePlan(IReadOnlyList<StagePlan> Stages, IReadOnlyList<ItemPlan> Items, PolicyPlan Policy, RunStop Stop, int SourceDelayMs = 0)
{
    /// <summary>The sink's name in failures.</summary>
    public const string SinkName = "sink";

    public bool SkipsFailures => Policy is PolicyPlan.Skip or PolicyPlan.RetryThenSkip or PolicyPlan.RetryAlsoOnFaultedThenSkip;

    public bool HasItemFaults => Items.Any(item => FailingStage(item) is not null);

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

    /// <summary>The first stage where the item cannot come through under this plan's policy (<see cref="Stages"/>.Count for the sink), if any.</summary>
    public int? FailingStage(ItemPlan item) => item.FailingStage(ToPolicy());

    /// <summary>A generous hang detector, not a speed check: 30 s plus every planned timeout on every attempt it can take.</summary>
    public TimeSpan Bound
    {
        get
        {
            var waits = TimeSpan.Zero;
            foreach (var item in Items)
                for (var stage = 0; stage < Stages.Count; stage++)
                {
                    var fault = item.Faults[stage];
                    var attempts = fault.Transient ? 1 : Attempts;
                    waits += fault.Kind switch
                    {
                        FaultKind.SleepForever or FaultKind.Stop => Stages[stage].HangBound * attempts,
                        FaultKind.Slow => TimeSpan.FromMilliseconds(fault.Argument),
                        _ => TimeSpan.Zero,
                    };
                }
            return TimeSpan.FromSeconds(30) + waits;
        }
    }

    /// <summary>Whether the failure is one the plan injected: the item's first failing stage (or the sink) with the case its fault causes, or a stage whose initializer fails.</summary>
    public bool IsInjected(ChildFailure failure)
    {
        if (!int.TryParse(failure.Key, NumberStyles.None, CultureInfo.InvariantCulture, out var index) && failure is not ChildFailure.StartFailed)
            return false;
        if (failure.Stage == SinkName)
            return index < Items.Count && FailingStage(Items[index]) == Stages.Count && failure.Kind == Items[index].SinkFault.ExpectedKind;
        if (!failure.Stage.StartsWith('s') || !int.TryParse(failure.Stage.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out var stage) || stage >= Stages.Count)
            return false;
        if (failure is ChildFailure.StartFailed)
            return Stages[stage].InitializerFails;
        if (index >= Items.Count)
            return false;
        var item = Items[index];
        return FailingStage(item) == stage && item.Faults[stage].ExpectedKind == failure.Kind;
    }

    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"plan: policy={Policy}, stop={Stop}, source delay={SourceDelayMs} ms, {Stages.Count} stage(s), {Items.Count} item(s)");
        for (var stage = 0; stage < Stages.Count; stage++)
            text.Append(CultureInfo.InvariantCulture, $"; s{stage}: {Stages[stage]}");
        text.Append("; items: ").Append(string.Join(' ', Items.Select(item => $"{item.Index}={item}")));
        return text.ToString();
    }
}
