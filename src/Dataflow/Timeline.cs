using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Nursery;

/// <summary>
/// Where a run's time went, from its per-attempt records: one row per child (per stage), one bar per item attempt,
/// coloured by outcome — as an SVG image, or as Chrome/Perfetto trace-event JSON (open it in ui.perfetto.dev or
/// chrome://tracing). Records beyond <see cref="NurseryOptions.MaxRecords"/> are not kept, so neither are their bars.
/// </summary>
public static class Timeline
{
    private const int Width = 960;
    private const int Label = 150;
    private const int RowHeight = 16;
    private const int Top = 30;

    /// <summary>The colour of each outcome's bars (CSS colours), also shown in the SVG's legend.</summary>
    public static IReadOnlyDictionary<ItemOutcome, string> Colours { get; } = new Dictionary<ItemOutcome, string>
    {
        [ItemOutcome.Succeeded] = "#43a047",
        [ItemOutcome.Failed(FailureKind.Faulted)] = "#e53935",
        [ItemOutcome.Failed(FailureKind.StartFailed)] = "#212121",
        [ItemOutcome.Failed(FailureKind.Crashed)] = "#8e24aa",
        [ItemOutcome.Failed(FailureKind.OutOfMemory)] = "#3949ab",
        [ItemOutcome.Failed(FailureKind.TimedOut)] = "#fb8c00",
        [ItemOutcome.Failed(FailureKind.ProtocolViolation)] = "#6d4c41",
        [ItemOutcome.Failed(FailureKind.Cancelled)] = "#9e9e9e",
    };

    /// <summary>The timeline of <paramref name="result"/>'s records as an SVG document.</summary>
    public static string ToSvg(PipelineResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return ToSvg(result.Records);
    }

    /// <summary>The timeline of <paramref name="records"/> as an SVG document: a row per (stage, child), a bar per attempt, a tooltip per bar.</summary>
    public static string ToSvg(IReadOnlyList<ItemRecord> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        var rows = Rows(records);
        var (origin, span) = Span(records);
        var height = Top + (rows.Count * RowHeight) + 40;
        var plot = Width - Label - 10;
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"11\">");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"4\" y=\"14\" font-weight=\"bold\">{records.Count} attempts on {rows.Count} children, {Units.Duration(span)}</text>");
        for (var tick = 0; tick <= 4; tick++)
        {
            var x = Label + (plot * tick / 4.0);
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{x:F1}\" y1=\"{Top - 4}\" x2=\"{x:F1}\" y2=\"{Top + (rows.Count * RowHeight)}\" stroke=\"#ddd\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{x:F1}\" y=\"{Top - 6}\" text-anchor=\"middle\" fill=\"#666\">{Units.Duration(span * tick / 4)}</text>");
        }
        for (var row = 0; row < rows.Count; row++)
        {
            var y = Top + (row * RowHeight);
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"4\" y=\"{y + 12}\">{Escape(rows[row].Name)}</text>");
            foreach (var record in rows[row].Records)
            {
                var x = Label + (plot * Fraction(record.Start - origin, span));
                var w = Math.Max(1.0, plot * Fraction(record.End - record.Start, span));
                var title = $"{record.Stage} item {record.Key}, attempt {record.Attempt}, pid {record.ProcessId}: {record.Outcome} in {Units.Duration(record.End - record.Start)}{(record.Detail.Length > 0 ? " — " + record.Detail : "")}";
                svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{x:F1}\" y=\"{y + 2}\" width=\"{w:F1}\" height=\"{RowHeight - 4}\" fill=\"{Colours[record.Outcome]}\"><title>{Escape(title)}</title></rect>");
            }
        }
        var legendY = Top + (rows.Count * RowHeight) + 20;
        var legendX = 4;
        foreach (var (outcome, colour) in Colours)
        {
            svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{legendX}\" y=\"{legendY - 9}\" width=\"10\" height=\"10\" fill=\"{colour}\"/><text x=\"{legendX + 14}\" y=\"{legendY}\">{outcome}</text>");
            legendX += 20 + (outcome.ToString().Length * 7);
        }
        svg.Append("</svg>");
        return svg.ToString();
    }

    /// <summary>The records of <paramref name="result"/> as Chrome/Perfetto trace-event JSON.</summary>
    public static string ToTraceJson(PipelineResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return ToTraceJson(result.Records);
    }

    /// <summary>
    /// <paramref name="records"/> as Chrome/Perfetto trace-event JSON: a process per stage, a thread per child (named
    /// by its pid), a complete event ("X") per attempt with its key, attempt, pid, outcome and detail as arguments.
    /// </summary>
    public static string ToTraceJson(IReadOnlyList<ItemRecord> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        var (origin, _) = Span(records);
        var stages = records.Select(record => record.Stage).Distinct(StringComparer.Ordinal).ToList();
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("displayTimeUnit", "ms");
            json.WriteStartArray("traceEvents");
            for (var stage = 0; stage < stages.Count; stage++)
            {
                Metadata(json, "process_name", stage + 1, 0, $"stage {stages[stage]}");
                foreach (var pid in records.Where(record => record.Stage == stages[stage]).Select(record => record.ProcessId).Distinct())
                    Metadata(json, "thread_name", stage + 1, pid, pid == 0 ? "in process" : $"child {pid}");
            }
            foreach (var record in records)
            {
                json.WriteStartObject();
                json.WriteString("name", record.Key);
                json.WriteString("cat", record.Outcome.ToString());
                json.WriteString("ph", "X");
                json.WriteNumber("ts", Microseconds(record.Start - origin));
                json.WriteNumber("dur", Math.Max(0, Microseconds(record.End - record.Start)));
                json.WriteNumber("pid", stages.IndexOf(record.Stage) + 1);
                json.WriteNumber("tid", record.ProcessId);
                json.WriteStartObject("args");
                json.WriteString("stage", record.Stage);
                json.WriteString("key", record.Key);
                json.WriteNumber("attempt", record.Attempt);
                json.WriteNumber("pid", record.ProcessId);
                json.WriteString("outcome", record.Outcome.ToString());
                if (record.Detail.Length > 0)
                    json.WriteString("detail", record.Detail);
                json.WriteEndObject();
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>
    /// Writes <paramref name="result"/>'s timeline to <paramref name="path"/>: SVG for a <c>.svg</c> path, trace-event
    /// JSON for a <c>.json</c> path.
    /// </summary>
    /// <exception cref="ArgumentException">The path ends neither in .svg nor in .json.</exception>
    public static Task WriteAsync(PipelineResult result, string path, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(path);
        var text = Path.GetExtension(path).ToUpperInvariant() switch
        {
            ".SVG" => ToSvg(result),
            ".JSON" => ToTraceJson(result),
            _ => throw new ArgumentException($"The timeline path '{path}' ends neither in .svg (an image) nor in .json (Chrome/Perfetto trace events); give one of them.", nameof(path)),
        };
        return File.WriteAllTextAsync(path, text, cancellationToken);
    }

    private static List<(string Name, List<ItemRecord> Records)> Rows(IReadOnlyList<ItemRecord> records) =>
        [
            .. records
                .GroupBy(record => (record.Stage, record.ProcessId))
                .OrderBy(group => group.Min(record => record.Start))
                .Select(group => (group.Key.ProcessId == 0 ? $"{group.Key.Stage} (in process)" : $"{group.Key.Stage} {group.Key.ProcessId}", group.ToList())),
        ];

    private static (DateTimeOffset Origin, TimeSpan Span) Span(IReadOnlyList<ItemRecord> records)
    {
        if (records.Count == 0)
            return (DateTimeOffset.UnixEpoch, TimeSpan.Zero);
        var origin = records.Min(record => record.Start);
        return (origin, records.Max(record => record.End) - origin);
    }

    private static double Fraction(TimeSpan part, TimeSpan whole) => whole > TimeSpan.Zero ? Math.Clamp(part / whole, 0, 1) : 0;

    private static long Microseconds(TimeSpan span) => span.Ticks / TimeSpan.TicksPerMicrosecond;

    private static void Metadata(Utf8JsonWriter json, string name, int pid, int tid, string value)
    {
        json.WriteStartObject();
        json.WriteString("name", name);
        json.WriteString("ph", "M");
        json.WriteNumber("pid", pid);
        json.WriteNumber("tid", tid);
        json.WriteStartObject("args");
        json.WriteString("name", value);
        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static string Escape(string text) => System.Net.WebUtility.HtmlEncode(text);
}
