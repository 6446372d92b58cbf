using System.Text.Json;
using System.Xml.Linq;
using Nursery.TestBodies;
using Nursery.Tests.Support;

namespace Nursery.Dataflow.Tests.Scenarios;

/// <summary>What people look at after a run: the timeline (SVG, trace events), the HTML views and the plain-text progress.</summary>
public sealed class TimelineTests
{
    private static readonly TimeSpan Bound = Pipelines.Bound;

    /// <summary>A real run: two children, item 13 throws (skipped), every attempt kept as a record.</summary>
    private static async Task<(PipelineResult Result, int[] ProcessIds)> RunAsync()
    {
        await using var scope = new NurseryScope(Pipelines.Quick(Policy.Skip));
        var stage = scope.Stage<int, int>(Bodies.ThrowOn13, new StageOptions { Name = "double", Workers = 2, ItemsPerWorker = 4 });
        stage.LinkTo(scope.Sink<int>(_ => { }, new SinkOptions { Name = "sink" }));
        var result = await scope.RunAsync(Enumerable.Range(0, 40), stage).WaitAsync(Bound);
        var pids = stage.ProcessIds.ToArray();
        await scope.DisposeAsync();
        await Processes.AssertAllGoneAsync(pids);
        return (result, pids);
    }

    [Fact]
    public async Task The_SVG_timeline_has_a_row_per_child_and_a_bar_per_attempt_coloured_by_outcome()
    {
        var (result, pids) = await RunAsync();

        var svg = XDocument.Parse(Timeline.ToSvg(result));

        XNamespace ns = "http://www.w3.org/2000/svg";
        var bars = svg.Descendants(ns + "rect").Where(rect => rect.Element(ns + "title") is not null).ToList();
        Assert.Equal(result.Records.Count, bars.Count);
        var labels = svg.Descendants(ns + "text").Select(text => text.Value).ToList();
        Assert.All(pids, pid => Assert.Contains($"double {pid}", labels));
        Assert.Contains("sink (in process)", labels);
        var thrown = Assert.Single(bars, bar => bar.Element(ns + "title")!.Value.StartsWith("double item 13,", StringComparison.Ordinal));
        Assert.Equal(Timeline.Colours[ItemOutcome.Failed(FailureKind.Faulted)], (string?)thrown.Attribute("fill"));
        Assert.Contains("Faulted", thrown.Element(ns + "title")!.Value, StringComparison.Ordinal);
        Assert.All(bars.Where(bar => bar != thrown), bar => Assert.Equal(Timeline.Colours[ItemOutcome.Succeeded], (string?)bar.Attribute("fill")));
    }

    [Fact]
    public async Task The_trace_event_JSON_has_a_complete_event_per_attempt_on_its_childs_thread()
    {
        var (result, pids) = await RunAsync();

        using var trace = JsonDocument.Parse(Timeline.ToTraceJson(result));

        var events = trace.RootElement.GetProperty("traceEvents").EnumerateArray().ToList();
        var attempts = events.Where(e => e.GetProperty("ph").GetString() == "X").ToList();
        Assert.Equal(result.Records.Count, attempts.Count);
        Assert.All(attempts, e =>
        {
            Assert.Equal(e.GetProperty("args").GetProperty("pid").GetInt32(), e.GetProperty("tid").GetInt32());
            Assert.True(e.GetProperty("ts").GetInt64() >= 0);
            Assert.True(e.GetProperty("dur").GetInt64() >= 0);
        });
        var threads = events.Where(e => e.GetProperty("name").GetString() == "thread_name").Select(e => e.GetProperty("args").GetProperty("name").GetString()).ToList();
        Assert.All(pids, pid => Assert.Contains($"child {pid}", threads));
        var thrown = Assert.Single(attempts, e => e.GetProperty("name").GetString() == "13" && e.GetProperty("args").GetProperty("stage").GetString() == "double");
        Assert.Equal("Faulted", thrown.GetProperty("cat").GetString());
    }

    [Fact]
    public async Task A_timeline_path_that_is_neither_svg_nor_json_is_refused_naming_both()
    {
        var (result, _) = await RunAsync();
        var directory = Directory.CreateTempSubdirectory("nursery-timeline-").FullName;
        try
        {
            var error = await Assert.ThrowsAsync<ArgumentException>(() => Timeline.WriteAsync(result, Path.Combine(directory, "run.png")));
            Assert.Contains(".svg", error.Message, StringComparison.Ordinal);
            Assert.Contains(".json", error.Message, StringComparison.Ordinal);

            await Timeline.WriteAsync(result, Path.Combine(directory, "run.svg"));
            await Timeline.WriteAsync(result, Path.Combine(directory, "run.json"));
            Assert.StartsWith("<svg", await File.ReadAllTextAsync(Path.Combine(directory, "run.svg")), StringComparison.Ordinal);
            using var json = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(directory, "run.json")));
            Assert.True(json.RootElement.GetProperty("traceEvents").GetArrayLength() > result.Records.Count);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task The_HTML_views_show_the_counts_the_failure_with_its_stack_trace_and_the_timeline()
    {
        var (result, _) = await RunAsync();

        var html = HtmlView.Of(result);
        var failure = HtmlView.Of(result.Failures[0]);

        Assert.Contains("completed", html, StringComparison.Ordinal);
        Assert.Contains("<td>&nbsp;&nbsp;Faulted</td><td style=\"text-align:right\">1</td>", html, StringComparison.Ordinal);
        Assert.Contains("<svg", html, StringComparison.Ordinal);
        Assert.Contains("13 is unlucky", failure, StringComparison.Ordinal);
        Assert.Contains("ThrowOn13", failure, StringComparison.Ordinal);
        Assert.Contains("<td>item</td><td>13</td>", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Progress_reads_as_one_line_with_the_kinds_the_resumed_items_and_each_stages_attempts()
    {
        var progress = new PipelineProgress(5, 3, 1, 1, TimeSpan.FromSeconds(2))
        {
            FailedByKind = new Dictionary<FailureKind, long> { [FailureKind.Faulted] = 1, [FailureKind.Crashed] = 0 },
            Stages = new Dictionary<string, StageProgress> { ["parse"] = new(4, 2) },
            Resumed = 7,
        };

        Assert.Equal("4 of 5 items done in 2 s: 3 ok, 1 failed (Faulted 1), 1 in flight, 7 done by an earlier run, 2 items/s | parse: 4 ok, 2 failed attempts", progress.ToString());
        Assert.Contains("<progress value=\"4\" max=\"5\">", HtmlView.Of(progress), StringComparison.Ordinal);
    }
}
