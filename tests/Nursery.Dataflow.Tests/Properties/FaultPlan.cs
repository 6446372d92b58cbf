using System.Globalization;
using System.Text;
using Nursery.TestBodies;

namespace Nursery.Dataflow.Tests.Properties;

/// <summary>What one item does at one stage.</summary>
public enum FaultKind
{
    Return,
    Slow,
    Throw,
    Exit,
    Kill,
    OutOfMemory,
    SleepForever,
    Stop,
    Garbage,
}

/// <summary>One item's behaviour at one stage; <paramref name="Argument"/> is the exit code or the sleep in ms.</summary>
public readonly record struct Fault(FaultKind Kind, int Argument = 0)
{
    /// <summary>Whether the item cannot come through the stage.</summary>
    public bool Fails => Kind is not (FaultKind.Return or FaultKind.Slow);

    /// <summary>The failure cases the stage may report for this fault.</summary>
    public IReadOnlySet<string> ExpectedKinds =>
        Kind switch
        {
            FaultKind.Throw => new HashSet<string> { "Faulted" },
            FaultKind.Exit or FaultKind.Kill => new HashSet<string> { "Crashed" },
            FaultKind.OutOfMemory => new HashSet<string> { "OutOfMemory" },
            FaultKind.SleepForever or FaultKind.Stop => new HashSet<string> { "TimedOut" },
            FaultKind.Garbage => new HashSet<string> { "ProtocolViolation" },
            _ => new HashSet<string>(),
        };

    /// <summary>The token the child body reads (see <see cref="PlannedItem"/>).</summary>
    public string Token =>
        Kind switch
        {
            FaultKind.Return => "R",
            FaultKind.Slow => "W" + Argument.ToString(CultureInfo.InvariantCulture),
            FaultKind.Throw => "T",
            FaultKind.Exit => "X" + Argument.ToString(CultureInfo.InvariantCulture),
            FaultKind.Kill => "K",
            FaultKind.OutOfMemory => "O",
            FaultKind.SleepForever => "H",
            FaultKind.Stop => "S",
            FaultKind.Garbage => "G",
            _ => throw new ArgumentOutOfRangeException(nameof(Kind)),
        };
}

/// <summary>How one stage is configured; which faults it may be given follows from it.</summary>
public sealed record StagePlan(int Workers, int ItemsPerWorker, int BoundedCapacity, bool Ordered, bool StartEagerly, int ItemTimeoutMs, bool FastHeartbeat, bool MemoryLimited, bool InitializerFails)
{
    public static readonly TimeSpan HeartbeatInterval = TimeSpan.FromMilliseconds(100);
    public static readonly TimeSpan HeartbeatTimeout = TimeSpan.FromMilliseconds(800);
    public const long MemoryLimit = 64L << 20;

    public TimeSpan ItemTimeout => ItemTimeoutMs > 0 ? TimeSpan.FromMilliseconds(ItemTimeoutMs) : Timeout.InfiniteTimeSpan;

    public override string ToString() =>
        $"workers={Workers} perWorker={ItemsPerWorker} capacity={BoundedCapacity}{(Ordered ? " ordered" : "")}{(StartEagerly ? "" : " lazy")}"
        + $"{(ItemTimeoutMs > 0 ? $" itemTimeout={ItemTimeoutMs}ms" : "")}{(FastHeartbeat ? " heartbeat=100/800ms" : "")}{(MemoryLimited ? " memory=64MiB" : "")}{(InitializerFails ? " INIT-FAILS" : "")}";
}

/// <summary>The run's policy, by name so a failing plan prints it.</summary>
public enum PolicyPlan
{
    FailFast,
    Skip,
    RetryThenFailFast,
    RetryThenSkip,
    RetryAlsoOnFaultedThenSkip,
}

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
