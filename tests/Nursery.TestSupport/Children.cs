using LanguageExt;

namespace Nursery.Tests.Support;

/// <summary>
/// Starts workers for one test and, when the test ends, disposes them and checks that every child process the
/// test started is gone. Use one per test: <c>await using var children = new Children();</c>.
/// </summary>
public sealed class Children : IAsyncDisposable
{
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private readonly List<int> _pids = [];
    private readonly List<IAsyncDisposable> _workers = [];

    public static WorkerOptions Options(string stage = "test") => new() { Name = stage, KillGrace = TimeSpan.FromSeconds(1) };

    public IReadOnlyList<int> Pids => _pids;

    /// <summary>Starts a worker that must start.</summary>
    public async Task<Worker<TIn, TOut>> StartAsync<TIn, TOut>(Body<TIn, TOut> body, WorkerOptions? options = null)
    {
        var started = await TryStartAsync(body, options);
        return started.Match(worker => worker, failure => throw new Xunit.Sdk.XunitException($"the worker did not start: {failure}"));
    }

    /// <summary>Starts a worker that may fail to start.</summary>
    public async Task<Either<ChildFailure, Worker<TIn, TOut>>> TryStartAsync<TIn, TOut>(Body<TIn, TOut> body, WorkerOptions? options = null)
    {
        var started = await Worker.StartAsync(body, options ?? Options()).WaitAsync(Bound);
        started.Match(
            worker =>
            {
                _pids.Add(worker.ProcessId);
                _workers.Add(worker);
            },
            failure =>
            {
                if (failure.ProcessId > 0)
                    _pids.Add(failure.ProcessId);
            }
        );
        return started;
    }

    /// <summary>Takes charge of a worker started another way: disposed and checked at the end.</summary>
    public void Adopt<TIn, TOut>(Worker<TIn, TOut> worker)
    {
        _pids.Add(worker.ProcessId);
        _workers.Add(worker);
    }

    /// <summary>Remembers a pid the test learned another way, so it is checked at the end.</summary>
    public void Track(int pid) => _pids.Add(pid);

    public async ValueTask DisposeAsync()
    {
        foreach (var worker in _workers)
            await worker.DisposeAsync().AsTask().WaitAsync(Bound);
        foreach (var pid in _pids)
            await Processes.AssertGoneAsync(pid, TimeSpan.FromSeconds(5));
    }
}
