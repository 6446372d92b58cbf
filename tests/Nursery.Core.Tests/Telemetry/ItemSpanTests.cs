using System.Diagnostics;
using Nursery.TestBodies;
using Nursery.Tests.Support;

namespace Nursery.Tests.Telemetry;

/// <summary>
/// A bare worker's item attempts as spans, seen by an <see cref="ActivityListener"/>: under the caller's current
/// activity, ended with the outcome, also when the child dies under the item. Only this test's trace is looked at.
/// </summary>
public sealed class ItemSpanTests
{
    private const string TestSourceName = "Nursery.Core.Tests.ItemSpans";
    private static readonly ActivitySource TestSource = new(TestSourceName);

    [Fact]
    public async Task An_item_whose_child_exits_under_it_ends_its_span_as_Crashed_with_the_childs_pid_and_the_next_item_as_Cancelled()
    {
        var stopped = new List<Activity>();
        using var listener = Listen(stopped);
        await using var children = new Children();
        var worker = await children.StartAsync(Body.From<int, int>(Bodies.Exit3), Children.Options("spans"));

        using var root = TestSource.StartActivity("test.root")!;
        var first = worker.InvokeAsync(1, key: "first");
        var second = worker.InvokeAsync(2, key: "second");
        await Task.WhenAll(first, second).WaitAsync(Children.Bound);
        root.Stop();

        List<Activity> items;
        lock (stopped)
            items = [.. stopped.Where(span => span.TraceId == root.TraceId && span.OperationName == "nursery.item")];
        Assert.Equal(2, items.Count);
        Assert.All(items, item => Assert.Equal(root.SpanId, item.ParentSpanId));
        Assert.All(items, item => Assert.Equal("spans", item.GetTagItem("nursery.stage")));
        var crashed = Assert.Single(items, item => (string?)item.GetTagItem("nursery.key") == "first");
        Assert.Equal("Crashed", crashed.GetTagItem("nursery.outcome"));
        Assert.Equal(ActivityStatusCode.Error, crashed.Status);
        Assert.Equal(worker.ProcessId, crashed.GetTagItem("nursery.pid"));
        var cancelled = Assert.Single(items, item => (string?)item.GetTagItem("nursery.key") == "second");
        Assert.Equal("Cancelled", cancelled.GetTagItem("nursery.outcome"));
    }

    [Fact]
    public async Task Items_of_a_batch_get_a_span_each_and_none_nests_in_another()
    {
        var stopped = new List<Activity>();
        using var listener = Listen(stopped);
        await using var children = new Children();
        var worker = await children.StartAsync(Body.From<int, int>(Bodies.Double), Children.Options("batch"));

        using var root = TestSource.StartActivity("test.root")!;
        var results = await worker.InvokeBatchAsync(Enumerable.Range(0, 50).ToArray(), index => $"k{index}", 1, CancellationToken.None).WaitAsync(Children.Bound);
        var currentAfter = Activity.Current;
        root.Stop();

        Assert.All(results, result => Assert.True(result.IsRight));
        Assert.Same(root, currentAfter);
        List<Activity> items;
        lock (stopped)
            items = [.. stopped.Where(span => span.TraceId == root.TraceId && span.OperationName == "nursery.item")];
        Assert.Equal(50, items.Count);
        Assert.All(items, item => Assert.Equal(root.SpanId, item.ParentSpanId));
        Assert.All(items, item => Assert.Equal("Succeeded", item.GetTagItem("nursery.outcome")));
        Assert.Equal(Enumerable.Range(0, 50).Select(index => $"k{index}").Order(), items.Select(item => (string)item.GetTagItem("nursery.key")!).Order());
    }

    private static ActivityListener Listen(List<Activity> stopped) => Spans.Listen(stopped, TestSourceName);
}
