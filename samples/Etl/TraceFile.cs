using System.Diagnostics;
using System.Text.Json;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace Nursery.Etl;

/// <summary>
/// <c>--trace FILE</c>: every span of the run (the run, each stage, each item attempt, and what the bodies record in
/// their children) as one JSON object per line, written as each span ends; <c>--trace -</c> prints them with
/// OpenTelemetry's console exporter instead.
/// </summary>
internal static class TraceFile
{
    public static TracerProvider Start(string path)
    {
        var builder = Sdk.CreateTracerProviderBuilder().AddSource(NurseryTelemetry.ActivitySourceName);
        if (path == "-")
            return builder.AddConsoleExporter().Build();
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null)
            Directory.CreateDirectory(directory);
        return builder.AddProcessor(new SimpleActivityExportProcessor(new JsonLinesExporter(path))).Build();
    }

    private sealed class JsonLinesExporter(string path) : BaseExporter<Activity>
    {
        private readonly StreamWriter _writer = new(path, append: false);

        public override ExportResult Export(in Batch<Activity> batch)
        {
            foreach (var span in batch)
            {
                var line = new Dictionary<string, object?>
                {
                    ["traceId"] = span.TraceId.ToHexString(),
                    ["spanId"] = span.SpanId.ToHexString(),
                    ["parentSpanId"] = span.ParentSpanId == default ? null : span.ParentSpanId.ToHexString(),
                    ["source"] = span.Source.Name,
                    ["name"] = span.DisplayName,
                    ["start"] = span.StartTimeUtc,
                    ["durationMs"] = span.Duration.TotalMilliseconds,
                    ["status"] = span.Status.ToString(),
                    ["statusDescription"] = span.StatusDescription,
                    ["tags"] = span.TagObjects.ToDictionary(tag => tag.Key, tag => tag.Value?.ToString()),
                };
                _writer.WriteLine(JsonSerializer.Serialize(line));
            }
            return ExportResult.Success;
        }

        protected override bool OnShutdown(int timeoutMilliseconds)
        {
            _writer.Flush();
            return true;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
                _writer.Dispose();
            base.Dispose(disposing);
        }
    }
}
