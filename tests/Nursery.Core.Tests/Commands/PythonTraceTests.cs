using System.Diagnostics;
using Nursery.Tests.Support;

namespace Nursery.Tests.Commands;

/// <summary>
/// A persistent Python worker gets each recorded item's W3C trace context: <c>nursery_worker.traceparent()</c> is the
/// item span's, so spans the handler starts go under it. Only this test's trace is looked at.
/// </summary>
public sealed class PythonTraceTests
{
    private const string TestSourceName = "Nursery.Core.Tests.PythonTrace";
    private static readonly ActivitySource TestSource = new(TestSourceName);

    [Fact]
    public async Task Each_item_of_a_batch_sees_its_own_item_spans_traceparent()
    {
        var stopped = new List<Activity>();
        using var listener = Spans.Listen(stopped, TestSourceName);
        await using var children = new Children();
        var started = await Nursery.Worker.StartAsync(Command.Python<int, string>(Path.Combine(AppContext.BaseDirectory, "python", "traced.py")), Children.Options("py-trace")).WaitAsync(Children.Bound);
        var worker = started.Match(w => w, failure => throw new Xunit.Sdk.XunitException($"the worker did not start: {failure}"));
        children.Adopt(worker);

        using var root = TestSource.StartActivity("test.root")!;
        var results = await worker.InvokeBatchAsync(Enumerable.Range(0, 20).ToArray(), index => $"k{index}", 1, CancellationToken.None).WaitAsync(Children.Bound);
        var single = await worker.InvokeAsync(99, "single").WaitAsync(Children.Bound);
        root.Stop();

        Dictionary<string, Activity> spans;
        lock (stopped)
            spans = stopped.Where(span => span.TraceId == root.TraceId && span.OperationName == "nursery.item").ToDictionary(span => (string)span.GetTagItem("nursery.key")!);
        Assert.Equal(21, spans.Count);
        for (var i = 0; i < results.Length; i++)
            Assert.Equal(TraceParent(spans[$"k{i}"]), EitherAssert.Right(results[i]));
        Assert.Equal(TraceParent(spans["single"]), EitherAssert.Right(single));
    }

    private static string TraceParent(Activity span) => $"00-{span.TraceId.ToHexString()}-{span.SpanId.ToHexString()}-01";
}
