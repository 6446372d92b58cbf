namespace Nursery;

/// <summary>How a <see cref="WorkerPool{TIn,TOut}"/> keeps its children: how many, when they start, when they are replaced. Immutable.</summary>
public sealed record PoolOptions
{
    /// <summary>How many children run at once.</summary>
    public int Workers { get; init; } = Environment.ProcessorCount;

    /// <summary>Start every child when the pool starts (true), or each when it is first needed.</summary>
    public bool StartEagerly { get; init; } = true;

    /// <summary>Replace a child after it has answered this many items (0: never), to bound leaks in the body.</summary>
    public int RecycleAfter { get; init; }

    /// <summary>More restarts than this within the window fail the pool with StartFailed instead of respawning forever.</summary>
    public RestartIntensity RestartIntensity { get; init; } = new(10, TimeSpan.FromSeconds(10));

    /// <summary>
    /// Children that fail to start this many times in a row (an initializer that throws, a missing host) fail the pool
    /// with StartFailed at once, whatever the restart intensity allows for children that crash after starting.
    /// </summary>
    public int MaxFailedStartsInARow { get; init; } = 3;

    /// <summary>How each child runs: limits, heartbeats, batching, logging.</summary>
    public WorkerOptions Worker { get; init; } = new();

    /// <summary>Throws <see cref="ArgumentException"/> naming the first option out of range.</summary>
    public PoolOptions Validate()
    {
        if (Workers is < 1 or > 4096)
            throw new ArgumentException($"Workers is {Workers}; it must be between 1 and 4096.", nameof(Workers));
        if (RecycleAfter < 0)
            throw new ArgumentException($"RecycleAfter is {RecycleAfter}; it must be 0 (never) or a number of items.", nameof(RecycleAfter));
        if (RestartIntensity.MaxRestarts < 0)
            throw new ArgumentException($"RestartIntensity.MaxRestarts is {RestartIntensity.MaxRestarts}; it must be 0 or more.", nameof(RestartIntensity));
        if (RestartIntensity.Window <= TimeSpan.Zero)
            throw new ArgumentException($"RestartIntensity.Window is {RestartIntensity.Window}; it must be positive.", nameof(RestartIntensity));
        if (MaxFailedStartsInARow < 1)
            throw new ArgumentException($"MaxFailedStartsInARow is {MaxFailedStartsInARow}; it must be 1 or more.", nameof(MaxFailedStartsInARow));
        Worker.Validate();
        return this;
    }
}

/// <summary>Erlang/OTP's restart intensity: at most <paramref name="MaxRestarts"/> restarts within <paramref name="Window"/>.</summary>
/// <param name="MaxRestarts">Restarts allowed within the window.</param>
/// <param name="Window">The sliding window.</param>
public sealed record RestartIntensity(int MaxRestarts, TimeSpan Window);
