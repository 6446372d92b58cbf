using System.Diagnostics;
using Nursery.Tests.Support;

namespace Nursery.Tests.Commands;

/// <summary>
/// A per-item program's item gets a span in the parent, as a worker's item does, and the program is given its W3C
/// trace context in <c>TRACEPARENT</c>. Real processes; only this test's trace is looked at.
/// </summary>
public sealed class PerItemTraceTests
{
    private const string TestSourceName = "Nursery.Core.Tests.PerItemTrace";
    private static readonly ActivitySource TestSource = new(TestSourceName);

    [Fact]
    public async Task Each_program_reads_its_item_spans_traceparent_and_a_failing_one_ends_its_span_with_the_failure()
    {
        var stopped = new List<Activity>();
        using var listener = Spans.Listen(stopped, TestSourceName);
        var runner = new PerItemRunner<string, string>(Command.PerItem<string, string>("sh", "-c", "test \"$1\" = fail && exit 3; printf %s \"$TRACEPARENT\"", "sh", "{}"), new PoolOptions { Workers = 2, Worker = new WorkerOptions { Name = "traced" } });
        string[] traceParents;
        ChildFailure.Crashed crashed;
        int[] pids;
        await using (runner)
        {
            using var root = TestSource.StartActivity("test.root")!;
            var results = await Task.WhenAll(new[] { "a", "b", "c" }.Select(item => runner.InvokeAsync(item, item))).WaitAsync(Children.Bound);
            var failed = await runner.InvokeAsync("fail", "fail").WaitAsync(Children.Bound);
            root.Stop();
            traceParents = [.. results.Select(EitherAssert.Right)];
            crashed = EitherAssert.Left<ChildFailure.Crashed, string>(failed);
            pids = [.. runner.ProcessIds];
        }

        Dictionary<string, Activity> spans;
        lock (stopped)
            spans = stopped.Where(span => span.OperationName == "nursery.item" && span.TraceId == TestTraceId(stopped)).ToDictionary(span => (string)span.GetTagItem("nursery.key")!);
        Assert.Equal(["a", "b", "c", "fail"], spans.Keys.Order());
        string[] succeeded = ["a", "b", "c"];
        Assert.Equal(succeeded.Select(key => $"00-{spans[key].TraceId.ToHexString()}-{spans[key].SpanId.ToHexString()}-01"), traceParents);
        Assert.All(succeeded, key => Assert.Equal("Succeeded", spans[key].GetTagItem("nursery.outcome")));
        Assert.Equal("traced", spans["a"].GetTagItem("nursery.stage"));
        Assert.Equal("Crashed", spans["fail"].GetTagItem("nursery.outcome"));
        Assert.Equal(ActivityStatusCode.Error, spans["fail"].Status);
        Assert.Equal(crashed.ProcessId, spans["fail"].GetTagItem("nursery.pid"));
        await Processes.AssertAllGoneAsync(pids);
    }

    private static ActivityTraceId TestTraceId(List<Activity> stopped) => stopped.Single(span => span.OperationName == "test.root").TraceId;
}
