using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;

namespace Nursery.Telemetry;

/// <summary>
/// The workers' instruments of the Nursery meter (a run's counters are Nursery.Dataflow's, on a meter of the same name), made once per meter: the static meter when no <see cref="IMeterFactory"/> is
/// given, else the factory's (a host's meters are then disposed with it and tagged as it tags them).
/// </summary>
internal sealed class Instruments
{
    private static readonly Meter StaticMeter = new(NurseryTelemetry.MeterName, "1.0");
    private static readonly ConditionalWeakTable<IMeterFactory, Instruments> ByFactory = [];

    /// <summary>The instruments of the static meter.</summary>
    public static readonly Instruments Static = new(StaticMeter);

    private Instruments(Meter meter)
    {
        Meter = meter;
        ItemDuration = meter.CreateHistogram<double>("nursery.item.duration", unit: "s", description: "From an item's send to its child until its result or failure, by stage and outcome");
        QueueWait = meter.CreateHistogram<double>("nursery.item.queue_wait", unit: "s", description: "From an item's arrival at a worker until it is sent to the child, by stage");
        ChildStart = meter.CreateHistogram<double>("nursery.child.start", unit: "s", description: "From a child's spawn until it is ready (or failed to start), by stage and outcome");
        InFlight = meter.CreateUpDownCounter<long>("nursery.items.in_flight", unit: "{item}", description: "Items given to a worker and not yet ended, by stage");
        LiveChildren = meter.CreateUpDownCounter<long>("nursery.children.live", unit: "{process}", description: "Child processes started and not yet reaped, by stage");
    }

    public Meter Meter { get; }

    public Histogram<double> ItemDuration { get; }

    public Histogram<double> QueueWait { get; }

    public Histogram<double> ChildStart { get; }

    public UpDownCounter<long> InFlight { get; }

    public UpDownCounter<long> LiveChildren { get; }

    /// <summary>Whether anyone listens to the per-item instruments (an item is then timed).</summary>
    public bool ItemsObserved => InFlight.Enabled || ItemDuration.Enabled || QueueWait.Enabled;

    /// <summary>The instruments of <paramref name="factory"/>'s Nursery meter, or of the static meter when it is null.</summary>
    public static Instruments For(IMeterFactory? factory) =>
        factory is null ? Static : ByFactory.GetValue(factory, static made => new Instruments(made.Create(new MeterOptions(NurseryTelemetry.MeterName) { Version = "1.0" })));
}
