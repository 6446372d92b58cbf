using System.Globalization;
using System.Net;
using System.Text;

namespace Nursery;

/// <summary>
/// HTML renderings of a run's result, its progress and a failure, for notebooks (a .NET Interactive kernel shows
/// them once registered as the types' text/html formatter) and reports. Each is a self-contained fragment.
/// </summary>
public static class HtmlView
{
    /// <summary>Records beyond this many are summarised rather than drawn in the result's timeline.</summary>
    public const int MaxTimelineRecords = 20_000;

    /// <summary>The outcome, the counts (by kind), the first failure's report and the timeline of the attempts.</summary>
    public static string Of(PipelineResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var html = new StringBuilder("<div class=\"nursery-result\">");
        html.Append(result.Completed
            ? "<b style=\"color:#2e7d32\">completed</b>"
            : $"<b style=\"color:#c62828\">ABORTED</b> ({Encode(result.AbortCause.ToString())}): {Encode(result.AbortReason)}");
        html.Append(CultureInfo.InvariantCulture, $" in {Encode(Units.Duration(result.Elapsed))}");
        html.Append("<table><tr><th style=\"text-align:left\">items</th><th style=\"text-align:right\">count</th></tr>");
        Row(html, "read", result.Inputs);
        Row(html, "succeeded", result.Succeeded);
        Row(html, "failed", result.Failed);
        foreach (var (kind, count) in result.CountsByKind.Where(pair => pair.Value > 0))
            Row(html, $"&nbsp;&nbsp;{kind}", count, encode: false);
        if (result.Resumed > 0)
            Row(html, "resumed (done by an earlier run)", result.Resumed);
        html.Append("</table>");
        result.FirstFailure.IfSome(failure => html.Append("<details><summary>first failure: ").Append(Encode(failure.Summary)).Append("</summary><pre>").Append(Encode(failure.ToString())).Append("</pre></details>"));
        if (result.Records.Count is > 0 and <= MaxTimelineRecords)
            html.Append("<details open><summary>timeline</summary>").Append(Timeline.ToSvg(result)).Append("</details>");
        else if (result.Records.Count > MaxTimelineRecords)
            html.Append(CultureInfo.InvariantCulture, $"<p>{result.Records.Count:N0} attempts: too many to draw here; write them with Timeline.WriteAsync(result, \"run.json\") and open the file in ui.perfetto.dev.</p>");
        return html.Append("</div>").ToString();
    }

    /// <summary>The counts so far, by stage and by kind, with a bar of the items done.</summary>
    public static string Of(PipelineProgress progress)
    {
        ArgumentNullException.ThrowIfNull(progress);
        var html = new StringBuilder("<div class=\"nursery-progress\">");
        html.Append(CultureInfo.InvariantCulture, $"<progress value=\"{progress.Done}\" max=\"{Math.Max(progress.Inputs, 1)}\"></progress> ");
        html.Append(Encode(progress.ToString()));
        if (progress.Stages.Count > 0)
        {
            html.Append("<table><tr><th style=\"text-align:left\">stage</th><th>attempts ok</th><th>attempts failed</th></tr>");
            foreach (var (stage, counts) in progress.Stages)
                html.Append(CultureInfo.InvariantCulture, $"<tr><td>{Encode(stage)}</td><td style=\"text-align:right\">{counts.Succeeded:N0}</td><td style=\"text-align:right\">{counts.Failed:N0}</td></tr>");
            html.Append("</table>");
        }
        return html.Append("</div>").ToString();
    }

    /// <summary>The failure's kind, where it happened, what to do, and its full report (with the child's stack trace for a throw).</summary>
    public static string Of(ChildFailure failure)
    {
        ArgumentNullException.ThrowIfNull(failure);
        var html = new StringBuilder("<div class=\"nursery-failure\">");
        html.Append("<b style=\"color:#c62828\">").Append(Encode(failure.Kind.ToString())).Append("</b>: ").Append(Encode(failure.Summary));
        html.Append("<table>");
        Cell(html, "stage", failure.Stage);
        Cell(html, "item", failure.Key);
        Cell(html, "attempt", failure.Attempt.ToString(CultureInfo.InvariantCulture));
        Cell(html, "pid", failure.ProcessId.ToString(CultureInfo.InvariantCulture));
        Cell(html, "after", Units.Duration(failure.Elapsed));
        Cell(html, "what to do", failure.Advice);
        html.Append("</table><details><summary>report</summary><pre>").Append(Encode(failure.ToString())).Append("</pre></details>");
        return html.Append("</div>").ToString();
    }

    private static void Row(StringBuilder html, string name, long count, bool encode = true) =>
        html.Append("<tr><td>").Append(encode ? Encode(name) : name).Append(CultureInfo.InvariantCulture, $"</td><td style=\"text-align:right\">{count:N0}</td></tr>");

    private static void Cell(StringBuilder html, string name, string value) =>
        html.Append("<tr><td>").Append(Encode(name)).Append("</td><td>").Append(Encode(value)).Append("</td></tr>");

    private static string Encode(string text) => WebUtility.HtmlEncode(text);
}
