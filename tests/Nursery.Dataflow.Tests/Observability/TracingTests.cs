using System.Diagnostics;
using Nursery.TestBodies;
using Nursery.Tests.Support;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace Nursery.Dataflow.Tests.Observability;

/// <summary>
/// A run seen through OpenTelemetry's in-memory exporter: the run, its stage and each item attempt are spans, and the
/// spans a body records in its child come back into the item's trace, as children of the item's span. Other tests
/// run beside this one and record too: only the spans of this test's own trace are looked at.
/// </summary>
public sealed class TracingTests
{
    private static readonly ActivitySource TestSource = new("Nursery.Dataflow.Tests.Tracing");

    [Fact]
    public async Task A_bodys_own_spans_come_back_from_its_child_as_children_of_the_item_attempts_span()
    {
        var exported = new List<Activity>();
        using var provider = Sdk.CreateTracerProviderBuilder()
            .AddSource(NurseryTelemetry.ActivitySourceName, TracedBodies.SourceName, TestSource.Name)
            .AddInMemoryExporter(exported)
            .Build();
        await using var scope = new NurseryScope(new NurseryOptions { DefaultPolicy = Policy.Skip });
        var stage = scope.Stage<int, int>(TracedBodies.Traced, new StageOptions { Name = "traced", Workers = 2 });
        var sink = scope.Sink<int>(_ => { });
        stage.LinkTo(sink);

        ActivityTraceId traceId;
        PipelineResult result;
        using (var root = TestSource.StartActivity("test.root"))
        {
            traceId = root!.TraceId;
            result = await scope.RunAsync(Enumerable.Range(1, 6), stage).WaitAsync(TimeSpan.FromSeconds(60));
        }
        provider.ForceFlush(5000);
        var pids = stage.ProcessIds.ToArray();
        await Processes.AssertAllGoneAsync(pids);
        List<Activity> spans;
        lock (exported)
            spans = [.. exported.Where(span => span.TraceId == traceId)];

        Assert.Equal(5, result.Succeeded);
        var rootSpan = Assert.Single(spans, span => span.OperationName == "test.root");
        var run = Assert.Single(spans, span => span.OperationName == "nursery.run");
        Assert.Equal(rootSpan.SpanId, run.ParentSpanId);
        Assert.Equal("Completed", run.GetTagItem("nursery.outcome"));
        var stageSpan = Assert.Single(spans, span => span.OperationName == "nursery.stage" && (string?)span.GetTagItem("nursery.stage") == "traced");
        Assert.Equal(run.SpanId, stageSpan.ParentSpanId);
        var items = spans.Where(span => span.OperationName == "nursery.item").ToList();
        Assert.Equal(6, items.Count);
        foreach (var item in items)
        {
            Assert.Equal(stageSpan.SpanId, item.ParentSpanId);
            Assert.Equal("traced", item.GetTagItem("nursery.stage"));
            Assert.Equal(1, item.GetTagItem("nursery.attempt"));
            Assert.Contains((int)item.GetTagItem("nursery.pid")!, pids);
            var key = (string)item.GetTagItem("nursery.key")!;
            var work = Assert.Single(spans, span => span.OperationName == "body.work" && span.ParentSpanId == item.SpanId);
            Assert.Equal(TracedBodies.SourceName, work.Source.Name);
            Assert.Equal(int.Parse(key, System.Globalization.CultureInfo.InvariantCulture) + 1, Convert.ToInt32(work.GetTagItem("body.item"), System.Globalization.CultureInfo.InvariantCulture));
            var inner = Assert.Single(spans, span => span.OperationName == "body.inner" && span.ParentSpanId == work.SpanId);
            Assert.Equal(item.GetTagItem("nursery.pid"), Convert.ToInt32(inner.GetTagItem("body.pid"), System.Globalization.CultureInfo.InvariantCulture));
            Assert.True(work.StartTimeUtc >= item.StartTimeUtc && work.StartTimeUtc + work.Duration <= item.StartTimeUtc + item.Duration, $"the body's span lies within its item's: {work.StartTimeUtc:O}+{work.Duration} in {item.StartTimeUtc:O}+{item.Duration}");
        }
        // Keys are indexes in the source: item 4 (the one the body refuses) has key "3".
        var refused = Assert.Single(items, item => (string?)item.GetTagItem("nursery.key") == "3");
        Assert.Equal("Faulted", refused.GetTagItem("nursery.outcome"));
        Assert.Equal(ActivityStatusCode.Error, refused.Status);
        Assert.All(items.Where(item => item != refused), item => Assert.Equal("Succeeded", item.GetTagItem("nursery.outcome")));
        var refusedWork = Assert.Single(spans, span => span.OperationName == "body.work" && span.ParentSpanId == refused.SpanId);
        Assert.Equal(ActivityStatusCode.Error, refusedWork.Status);
        Assert.Equal("four is refused", refusedWork.StatusDescription);
    }
}
