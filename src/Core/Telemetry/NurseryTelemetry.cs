namespace Nursery;

/// <summary>
/// The names under which Nursery reports: one <see cref="System.Diagnostics.ActivitySource"/> and one
/// <see cref="System.Diagnostics.Metrics.Meter"/>, both called "Nursery". Listen to them by these names (OpenTelemetry's
/// <c>AddSource</c> and <c>AddMeter</c>); docs/observability.md lists every span, tag and instrument.
/// </summary>
public static class NurseryTelemetry
{
    /// <summary>The activity source's name: spans per run, per stage and per item attempt.</summary>
    public const string ActivitySourceName = "Nursery";

    /// <summary>The meter's name: item counters, duration histograms and gauges of items in flight and live children.</summary>
    public const string MeterName = "Nursery";
}
