using System.Diagnostics;

namespace Nursery.Benchmarks;

/// <summary>
/// Starts workers for one benchmark and disposes every one of them, each wait bounded; records every child pid
/// so the harness can check at the end that they are gone. Use as <c>await using var scope = new WorkerScope(pids);</c>.
/// </summary>
internal sealed class WorkerScope(ChildPids pids) : IAsyncDisposable
{
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);
    private readonly List<IAsyncDisposable> _workers = [];

    /// <summary>Starts a worker that must start; throws <see cref="BenchmarkException"/> with the failure otherwise.</summary>
    public async Task<Worker<TIn, TOut>> StartAsync<TIn, TOut>(Body<TIn, TOut> body, WorkerOptions options)
    {
        var started = await Worker.StartAsync(body, options).WaitAsync(Bound);
        return started.Match(
            worker =>
            {
                pids.Track(worker.ProcessId);
                _workers.Add(worker);
                return worker;
            },
            failure =>
            {
                pids.Track(failure.ProcessId);
                throw new BenchmarkException($"a worker did not start: {failure}");
            }
        );
    }

    /// <summary>Disposes one worker now and returns how long that took.</summary>
    public async Task<TimeSpan> DisposeWorkerAsync(IAsyncDisposable worker)
    {
        ArgumentNullException.ThrowIfNull(worker);
        _workers.Remove(worker);
        var start = Stopwatch.GetTimestamp();
        await worker.DisposeAsync().AsTask().WaitAsync(Bound);
        return Stopwatch.GetElapsedTime(start);
    }

    public async ValueTask DisposeAsync()
    {
        var workers = _workers.ToArray();
        _workers.Clear();
        List<Exception> errors = [];
        foreach (var worker in workers)
        {
            try
            {
                await worker.DisposeAsync().AsTask().WaitAsync(Bound);
            }
            catch (TimeoutException exception)
            {
                errors.Add(exception);
            }
        }
        if (errors.Count > 0)
            throw new BenchmarkException($"{errors.Count} worker(s) were not disposed within {Bound.TotalSeconds} s", errors[0]);
    }
}
