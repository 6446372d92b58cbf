using System.Collections.Concurrent;

namespace Nursery.Hosting;

/// <summary>The results of the host's pipelines as they end (a singleton in the container): for a health check, a test, or a batch job's exit code.</summary>
public sealed class NurseryPipelineResults
{
    private readonly ConcurrentDictionary<string, PipelineResult?> _ended = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, TaskCompletionSource<PipelineResult?>> _waiting = new(StringComparer.Ordinal);
    private int _pipelines;

    /// <summary>The result of pipeline <paramref name="name"/> once it has ended (null if it threw, or the host stopped it before it returned); never faults.</summary>
    public Task<PipelineResult?> WhenEnded(string name) => Waiting(name).Task;

    /// <summary>Whether every pipeline added with <c>AddPipeline</c> has ended.</summary>
    public bool AllEnded => _ended.Count >= Volatile.Read(ref _pipelines);

    internal void Added(string name)
    {
        Interlocked.Increment(ref _pipelines);
        Waiting(name);
    }

    internal void Ended(string name, PipelineResult? result)
    {
        _ended[name] = result;
        Waiting(name).TrySetResult(result);
    }

    private TaskCompletionSource<PipelineResult?> Waiting(string name) =>
        _waiting.GetOrAdd(name, static _ => new TaskCompletionSource<PipelineResult?>(TaskCreationOptions.RunContinuationsAsynchronously));
}
