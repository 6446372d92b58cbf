using System.Collections.Concurrent;

namespace Nursery.Launch;

/// <summary>
/// Starts every child process from one dedicated, long-lived thread.
/// </summary>
/// <remarks>
/// Linux delivers a child's parent-death signal (<c>PR_SET_PDEATHSIG</c>) when the <em>thread</em> that forked it
/// exits, and .NET forks on the calling thread. Forking from pool threads, which retire when idle, would kill
/// healthy children; this thread lives as long as the process, so the signal fires only when the parent dies.
/// </remarks>
internal static class Spawner
{
    private static readonly BlockingCollection<Action> Work = [];

    static Spawner()
    {
        var thread = new Thread(Run) { IsBackground = true, Name = "Nursery spawner" };
        thread.Start();
    }

    /// <summary>Runs <paramref name="start"/> on the spawner thread and returns its result (or its exception).</summary>
    public static Task<T> RunAsync<T>(Func<T> start)
    {
        var completion = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        Work.Add(() =>
        {
            try
            {
                completion.SetResult(start());
            }
            catch (Exception exception)
            {
                completion.SetException(exception);
            }
        });
        return completion.Task;
    }

    private static void Run()
    {
        foreach (var action in Work.GetConsumingEnumerable())
            action();
    }
}
