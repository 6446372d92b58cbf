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

    public string Line(PipelineProgress p)
    {
        var stageText = string.Join(" | ", stages.Select(s => $"{s} {Stage(p, s).Succeeded} ok {Stage(p, s).Failed} failed"));
        var kinds = string.Join(", ", p.FailedByKind.Where(k => k.Value > 0).Select(k => $"{k.Key} {k.Value}"));
        return string.Create(CultureInfo.InvariantCulture, $"[{p.Elapsed.TotalSeconds,6:F1}s] {p.Succeeded + p.Failed}/{total} done, {p.Succeeded} ok, {p.Failed} failed{(kinds.Length > 0 ? $" ({kinds})" : "")}, {p.ItemsPerSecond:F0} items/s | {stageText}");
    }

    private Rows Render(PipelineProgress p)
    {
        var done = p.Succeeded + p.Failed;
        var table = new Table().Border(TableBorder.Rounded).Title($"[bold]orders → parse → convert → write[/]  {p.Elapsed.TotalSeconds:F1} s");
        table.AddColumn("stage");
        table.AddColumn(new TableColumn("ok").RightAligned());
        table.AddColumn(new TableColumn("failed").RightAligned());
        foreach (var stage in stages)
        {
            var counts = Stage(p, stage);
            table.AddRow(stage, counts.Succeeded.ToString("N0", CultureInfo.InvariantCulture), counts.Failed > 0 ? $"[red]{counts.Failed:N0}[/]" : "0");
        }
        var kinds = string.Join("  ", p.FailedByKind.Where(k => k.Value > 0).Select(k => $"[red]{k.Key}[/] {k.Value}"));
        var ratio = total > 0 ? (double)done / total : 0;
        var bar = new string('█', (int)(ratio * 40)) + new string('░', 40 - (int)(ratio * 40));
        return new Rows(
            table,
            new Markup($"{bar} {done:N0}/{total:N0}  [green]{p.Succeeded:N0} ok[/]  {p.Failed:N0} failed  in flight {p.InFlight:N0}  [bold]{p.ItemsPerSecond:N0} items/s[/]"),
            new Markup(kinds.Length > 0 ? $"failures: {kinds}" : "failures: none")
        );
    }

    private static StageProgress Stage(PipelineProgress p, string stage) => p.Stages.GetValueOrDefault(stage) ?? new StageProgress(0, 0);
}
