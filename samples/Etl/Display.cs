using System.Globalization;
using Spectre.Console;

namespace Nursery.Etl;

/// <summary>Shows the run's progress: a live Spectre.Console table on a terminal, a plain line a second otherwise.</summary>
internal sealed class Display(long total, IReadOnlyList<string> stages) : IProgress<PipelineProgress>
{
    private PipelineProgress _latest = new(0, 0, 0, 0, TimeSpan.Zero);

    public static bool Interactive => !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;

    public PipelineProgress Latest => Volatile.Read(ref _latest);

    public void Report(PipelineProgress value) => Volatile.Write(ref _latest, value);

    /// <summary>Shows progress until <paramref name="run"/> completes.</summary>
    public async Task ShowAsync(Task run)
    {
        if (Interactive)
        {
            await AnsiConsole.Live(Render(Latest)).AutoClear(false).StartAsync(async context =>
            {
                while (!run.IsCompleted)
                {
                    await Task.WhenAny(run, Task.Delay(TimeSpan.FromMilliseconds(200))).ConfigureAwait(false);
                    context.UpdateTarget(Render(Latest));
                }
            }).ConfigureAwait(false);
            return;
        }
        while (!run.IsCompleted)
        {
            await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(1))).ConfigureAwait(false);
            Console.WriteLine(Line(Latest));
        }
    }

    /// <summary>
    /// The plain progress line. Items are counted once each (those done by an earlier run, under --resume, included, so
    /// the count reaches the total); the stages count attempts, so under retry an item may count more than once there.
    /// </summary>
    public string Line(PipelineProgress p)
    {
        var stageText = string.Join(" | ", stages.Select(s => $"{s} {Stage(p, s).Succeeded} ok {Stage(p, s).Failed} failed"));
        var kinds = string.Join(", ", p.FailedByKind.Where(k => k.Value > 0).Select(k => $"{k.Key} {k.Value}"));
        var resumed = p.Resumed > 0 ? $" ({p.Resumed} by an earlier run)" : "";
        return string.Create(CultureInfo.InvariantCulture, $"[{p.Elapsed.TotalSeconds,6:F1}s] items {p.Done + p.Resumed}/{total} done{resumed}, {p.Succeeded} ok, {p.Failed} failed{(kinds.Length > 0 ? $" ({kinds})" : "")}, {p.ItemsPerSecond:F0} items/s | attempts: {stageText}");
    }

    private Rows Render(PipelineProgress p)
    {
        var done = p.Done + p.Resumed;
        var table = new Table().Border(TableBorder.Rounded);
        table.AddColumn("stage");
        table.AddColumn(new TableColumn("attempts ok").RightAligned());
        table.AddColumn(new TableColumn("attempts failed").RightAligned());
        foreach (var stage in stages)
        {
            var counts = Stage(p, stage);
            table.AddRow(stage, counts.Succeeded.ToString("N0", CultureInfo.InvariantCulture), counts.Failed > 0 ? $"[red]{counts.Failed:N0}[/]" : "0");
        }
        var kinds = string.Join("  ", p.FailedByKind.Where(k => k.Value > 0).Select(k => $"[red]{k.Key}[/] {k.Value}"));
        var ratio = total > 0 ? (double)done / total : 0;
        var bar = new string('█', (int)(ratio * 40)) + new string('░', 40 - (int)(ratio * 40));
        var resumed = p.Resumed > 0 ? $" ({p.Resumed:N0} by an earlier run)" : "";
        return new Rows(
            new Markup($"[bold]orders → parse → convert → write[/]  {p.Elapsed.TotalSeconds:F1} s"),
            table,
            new Markup($"{bar} items {done:N0}/{total:N0}{resumed}  [green]{p.Succeeded:N0} ok[/]  {p.Failed:N0} failed  in flight {p.InFlight:N0}  [bold]{p.ItemsPerSecond:N0} items/s[/]"),
            new Markup(kinds.Length > 0 ? $"failures: {kinds}" : "failures: none")
        );
    }

    private static StageProgress Stage(PipelineProgress p, string stage) => p.Stages.GetValueOrDefault(stage) ?? new StageProgress(0, 0);
}
