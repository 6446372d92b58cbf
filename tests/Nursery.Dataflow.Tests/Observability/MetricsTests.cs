using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Nursery.TestBodies;
using Nursery.Tests.Support;

namespace Nursery.Dataflow.Tests.Observability;

/// <summary>
/// The Nursery meter seen through a <see cref="MeterListener"/>. The run is given a meter factory of its own, so only
/// its instruments are listened to (other tests run beside this one on the static meter).
/// </summary>
public sealed class MetricsTests
{
    [Fact]
    public async Task A_run_through_a_meter_factory_records_item_and_child_histograms_and_its_gauges_return_to_zero()
    {
        using var factory = new OwnMeterFactory();
        var measurements = new ConcurrentQueue<(string Instrument, double Value, Dictionary<string, object?> Tags)>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, listening) =>
            {
                if (factory.Made(instrument.Meter))
                    listening.EnableMeasurementEvents(instrument);
            },
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => measurements.Enqueue((instrument.Name, value, Tags(tags))));
        listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => measurements.Enqueue((instrument.Name, value, Tags(tags))));
        listener.Start();
        var options = new NurseryOptions { DefaultPolicy = Policy.Skip, MeterFactory = factory };
        int[] pids;
        PipelineResult result;
        await using (var scope = new NurseryScope(options))
        {
            var stage = scope.Stage<int, int>(TracedBodies.Traced, new StageOptions { Name = "measured", Workers = 2 });
            var sink = scope.Sink<int>(_ => { });
            stage.LinkTo(sink);
            result = await scope.RunAsync(Enumerable.Range(1, 20), stage).WaitAsync(TimeSpan.FromSeconds(60));
            pids = [.. stage.ProcessIds];
        }
        await Processes.AssertAllGoneAsync(pids);
        var seen = measurements.ToArray();
        IEnumerable<(string Instrument, double Value, Dictionary<string, object?> Tags)> Of(string name) => seen.Where(m => m.Instrument == name);

        Assert.Equal(19, result.Succeeded);
        var durations = Of("nursery.item.duration").ToList();
        Assert.Equal(20, durations.Count);
        Assert.All(durations, m => Assert.Equal("measured", m.Tags["stage"]));
        Assert.Equal(19, durations.Count(m => (string?)m.Tags["outcome"] == "Succeeded"));
        Assert.Equal("Faulted", Assert.Single(durations, m => (string?)m.Tags["outcome"] != "Succeeded").Tags["outcome"]);
        Assert.All(durations, m => Assert.True(m.Value >= 0));
        Assert.Equal(20, Of("nursery.item.queue_wait").Count());
        var starts = Of("nursery.child.start").ToList();
        Assert.Equal(pids.Length, starts.Count);
        Assert.All(starts, m => Assert.Equal("Ready", m.Tags["outcome"]));
        Assert.Equal(20, Of("nursery.items.in_flight").Count(m => m.Value > 0));
        Assert.Equal(0, Of("nursery.items.in_flight").Sum(m => m.Value));
        Assert.Equal(pids.Length, Of("nursery.children.live").Count(m => m.Value > 0));
        Assert.Equal(0, Of("nursery.children.live").Sum(m => m.Value));
        Assert.Equal(19, Of("nursery.items.succeeded").Sum(m => m.Value));
        Assert.Equal(1, Assert.Single(Of("nursery.items.failed")).Value);
        Assert.Equal(20, Of("nursery.item.attempts").Where(m => (string?)m.Tags["stage"] == "measured").Sum(m => m.Value));
    }

    private static Dictionary<string, object?> Tags(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var copy = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (key, value) in tags)
            copy[key] = value;
        return copy;
    }

    /// <summary>A meter factory as a host gives one: one meter per name and version, disposed with the factory.</summary>
    private sealed class OwnMeterFactory : IMeterFactory
    {
        private readonly ConcurrentDictionary<string, Meter> _meters = new(StringComparer.Ordinal);

        public Meter Create(MeterOptions options) =>
            _meters.GetOrAdd($"{options.Name}/{options.Version}", _ => new Meter(new MeterOptions(options.Name) { Version = options.Version, Tags = options.Tags, Scope = this }));

        public bool Made(Meter meter) => ReferenceEquals(meter.Scope, this);

        public void Dispose()
        {
            foreach (var meter in _meters.Values)
                meter.Dispose();
        }
    }
}
