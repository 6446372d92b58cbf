using System.Diagnostics;

namespace Nursery;

/// <summary>
/// A run's spans: <c>nursery.run</c> for the whole run and a <c>nursery.stage</c> under it per block, ended when the
/// block completes. A stage's batches make its span current, so its item attempts (Nursery.Core's <c>nursery.item</c>)
/// go under it. Nothing is made when nobody listens to the "Nursery" source.
/// </summary>
internal sealed class RunTracing
{
    private static readonly ActivitySource Source = new(NurseryTelemetry.ActivitySourceName, "1.0");
    private readonly Dictionary<string, StageSpan> _stages = new(StringComparer.Ordinal);

    private RunTracing(Activity run) => Run = run;

    public Activity Run { get; }

    /// <summary>Starts the run's span (current for the rest of the caller's flow) and its stages'; null when nobody listens.</summary>
    public static RunTracing? Start(IReadOnlyList<INurseryBlock> blocks)
    {
        var run = Source.StartActivity("nursery.run");
        if (run is null)
            return null;
        var tracing = new RunTracing(run);
        foreach (var block in blocks)
        {
            var stage = Source.StartActivity("nursery.stage", ActivityKind.Internal, run.Context, [new("nursery.stage", block.Name)]);
            Activity.Current = run;
            if (stage is null || !tracing._stages.TryAdd(block.Name, new StageSpan(stage)))
            {
                stage?.Stop();
                Activity.Current = run;
                continue;
            }
            var span = tracing._stages[block.Name];
            _ = block.Completion.ContinueWith(static (completion, state) => ((StageSpan)state!).Stop(completion), span, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
        return tracing;
    }

    /// <summary>The span of the stage called <paramref name="name"/>; null if it has none.</summary>
    public Activity? Stage(string name) => _stages.TryGetValue(name, out var span) ? span.Activity : null;

    /// <summary>Ends every stage span still open and the run's, with the run's outcome.</summary>
    public void End(PipelineResult result)
    {
        foreach (var stage in _stages.Values)
            stage.Stop(null);
        Run.SetTag("nursery.outcome", result.Completed ? "Completed" : "Aborted");
        Run.SetTag("nursery.items.inputs", result.Inputs);
        Run.SetTag("nursery.items.succeeded", result.Succeeded);
        Run.SetTag("nursery.items.failed", result.Failed);
        if (result.Aborted)
            Run.SetStatus(ActivityStatusCode.Error, result.AbortReason);
        var current = Activity.Current;
        Run.Stop();
        Activity.Current = current == Run ? Run.Parent : current;
    }

    private sealed class StageSpan(Activity activity)
    {
        private int _stopped;

        public Activity Activity => activity;

        /// <summary>Stops the span once: when its block completes, or at the end of the run for a block still going.</summary>
        public void Stop(Task? completion)
        {
            if (Interlocked.Exchange(ref _stopped, 1) != 0)
                return;
            if (completion is { IsFaulted: true })
                activity.SetStatus(ActivityStatusCode.Error, completion.Exception?.GetBaseException().Message);
            var current = Activity.Current;
            activity.Stop();
            Activity.Current = current;
        }
    }
}
