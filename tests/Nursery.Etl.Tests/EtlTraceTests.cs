using System.Text.Json;

namespace Nursery.Etl.Tests;

/// <summary>The ETL sample's --trace: every span of the run, one JSON object per line.</summary>
public sealed class EtlTraceTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("nursery-etl-trace-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Trace_writes_the_run_its_stages_and_an_item_attempt_per_item_and_stage_in_one_trace()
    {
        var trace = Path.Combine(_directory, "trace.jsonl");

        var run = await EtlProcess.RunSampleAsync(_directory, "--generate", "200", "--input", Path.Combine(_directory, "orders.jsonl"), "--db", Path.Combine(_directory, "orders.db"), "--joblog", Path.Combine(_directory, "joblog.tsv"), "--trace", trace);

        Assert.True(run.ExitCode == 0, run.Output);
        var summary = run.Summary!;
        await EtlProcess.AssertNoChildLeftAsync(summary);
        var spans = File.ReadAllLines(trace).Select(line => JsonDocument.Parse(line).RootElement).ToList();
        string Name(JsonElement span) => span.GetProperty("name").GetString()!;
        string? Tag(JsonElement span, string key) => span.GetProperty("tags").TryGetProperty(key, out var value) ? value.GetString() : null;
        var runSpan = Assert.Single(spans, span => Name(span) == "nursery.run");
        Assert.Equal("Completed", Tag(runSpan, "nursery.outcome"));
        Assert.All(spans, span => Assert.Equal(runSpan.GetProperty("traceId").GetString(), span.GetProperty("traceId").GetString()));
        var stages = spans.Where(span => Name(span) == "nursery.stage").ToDictionary(span => Tag(span, "nursery.stage")!, span => span.GetProperty("spanId").GetString());
        Assert.Equal(["convert", "parse", "write"], stages.Keys.Order());
        foreach (var stage in new[] { "parse", "convert" })
        {
            var items = spans.Where(span => Name(span) == "nursery.item" && Tag(span, "nursery.stage") == stage).ToList();
            Assert.Equal(200, items.Count);
            Assert.Equal(Enumerable.Range(0, 200).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).Order(), items.Select(item => Tag(item, "nursery.key")!).Order());
            Assert.All(items, item => Assert.Equal(stages[stage], item.GetProperty("parentSpanId").GetString()));
            Assert.All(items, item => Assert.Contains(int.Parse(Tag(item, "nursery.pid")!, System.Globalization.CultureInfo.InvariantCulture), summary.ProcessIds[stage]));
        }
    }
}
