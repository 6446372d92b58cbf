namespace Nursery.Testing;

/// <summary>
/// How an isolated property runs its cases: a <see cref="PoolOptions"/> whose defaults suit a property run, one case
/// at a time in one reused child (<see cref="PoolOptions.Workers"/> = 1), a case that runs past
/// <see cref="DefaultCaseTimeout"/> taken for a hang, and no limit on how often a crashed child is replaced (a
/// shrinking run crashes children on purpose, over and over). Every pool setting stays available; validated when the
/// isolation starts.
/// </summary>
public sealed record IsolationOptions : PoolOptions
{
    /// <summary>How long one case may run before its child is killed and the case falsified as a hang: 10 seconds.</summary>
    public static readonly TimeSpan DefaultCaseTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The defaults: one reused child, cases bounded by <see cref="DefaultCaseTimeout"/>, no memory limit.</summary>
    public IsolationOptions()
    {
        Workers = 1;
        ItemsPerWorker = 1;
        // Shrinking a crash restarts a child per failing candidate; the restart budget is for pools in production.
        RestartIntensity = new RestartIntensity(100_000, TimeSpan.FromSeconds(1));
        Worker = new WorkerOptions { Name = "property", ItemTimeout = DefaultCaseTimeout, KillGrace = TimeSpan.FromSeconds(1) };
    }

    /// <summary>The default options (a new instance each time; change it with the <c>With…</c> methods or <c>with</c>).</summary>
    public static IsolationOptions Default => new();

    /// <summary>How long one case may run in its child (<see cref="WorkerOptions.ItemTimeout"/>).</summary>
    public TimeSpan CaseTimeout => Worker.ItemTimeout;

    /// <summary>These options with each case bounded by <paramref name="timeout"/>: a case still running then is killed and falsified as <see cref="ChildFailure.TimedOut"/>.</summary>
    public IsolationOptions WithCaseTimeout(TimeSpan timeout) => this with { Worker = Worker with { ItemTimeout = timeout } };

    /// <summary>These options with each child limited to <paramref name="bytes"/> of memory (a memory cgroup; at least 16 MiB): a case that needs more is falsified as <see cref="ChildFailure.OutOfMemory"/>.</summary>
    public IsolationOptions WithMemoryLimit(long bytes) => this with { Worker = Worker with { MemoryLimit = bytes } };

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting out of range, and what is allowed.</summary>
    public override PoolOptions Validate()
    {
        base.Validate();
        if (Worker.ItemTimeout == Timeout.InfiniteTimeSpan)
            throw new ArgumentException("The case timeout (Worker.ItemTimeout) is infinite, so a case that hangs would hang the test run; give one with WithCaseTimeout.", nameof(Worker));
        return this;
    }
}
