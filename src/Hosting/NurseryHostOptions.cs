namespace Nursery.Hosting;

/// <summary>
/// What configuration says about Nursery (an <c>appsettings.json</c> section, usually "Nursery"): the run-wide
/// settings of <see cref="NurseryOptions"/> that configuration can carry, and per-stage settings by stage name.
/// Bound by <c>AddNursery(section)</c>; checked when a pipeline starts, with an error that names the setting.
/// </summary>
public sealed record NurseryHostOptions
{
    /// <summary>The run's deadline (<see cref="NurseryOptions.Deadline"/>); null: none.</summary>
    public TimeSpan? Deadline { get; init; }

    /// <summary>How long an aborted run waits for items to drain (<see cref="NurseryOptions.DrainTimeout"/>).</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The policy of stages that set none: "FailFast" (the default), "Skip", or "Retry" (with <see cref="RetryAttempts"/>).</summary>
    public string DefaultPolicy { get; init; } = "FailFast";

    /// <summary>The attempts of an item under the "Retry" policy, the first included.</summary>
    public int RetryAttempts { get; init; } = 3;

    /// <summary>The job log file (<see cref="NurseryOptions.JobLog"/>); null: none.</summary>
    public string? JobLog { get; init; }

    /// <summary>Skip the items the job log records as succeeded (<see cref="NurseryOptions.Resume"/>).</summary>
    public bool Resume { get; init; }

    /// <summary>Whether the host stops once every pipeline has ended (a batch job); false: the host keeps running (a service).</summary>
    public bool StopHostWhenDone { get; init; }

    /// <summary>Settings of the stages by name, given to <see cref="NurseryPipelineContext.StageOptions"/>.</summary>
    public Dictionary<string, NurseryStageSettings> Stages { get; init; } = new(StringComparer.Ordinal);

    /// <summary>The run-wide options these settings make, with the host's logger and meter factory; throws <see cref="ArgumentException"/> naming a bad setting.</summary>
    internal NurseryOptions ToNurseryOptions(Microsoft.Extensions.Logging.ILogger logger, System.Diagnostics.Metrics.IMeterFactory? meterFactory) =>
        new NurseryOptions
        {
            Deadline = Deadline ?? Timeout.InfiniteTimeSpan,
            DrainTimeout = DrainTimeout,
            DefaultPolicy = Policy(),
            JobLog = JobLog,
            Resume = Resume,
            Logger = logger,
            MeterFactory = meterFactory,
        }.Validate();

    private Policy Policy() =>
        DefaultPolicy switch
        {
            "FailFast" => Nursery.Policy.FailFast,
            "Skip" => Nursery.Policy.Skip,
            "Retry" => Nursery.Policy.Retry(RetryAttempts),
            _ => throw new ArgumentException($"Nursery:DefaultPolicy is '{DefaultPolicy}'; use FailFast, Skip or Retry (with Nursery:RetryAttempts).", nameof(DefaultPolicy)),
        };
}

/// <summary>The settings of one stage that configuration can carry; unset ones keep <see cref="StageOptions"/>' defaults.</summary>
public sealed record NurseryStageSettings
{
    /// <summary>Child processes of the stage (<see cref="PoolOptions.Workers"/>).</summary>
    public int? Workers { get; init; }

    /// <summary>How long one item may run (<see cref="WorkerOptions.ItemTimeout"/>).</summary>
    public TimeSpan? ItemTimeout { get; init; }

    /// <summary>The memory limit of each child in bytes (<see cref="WorkerOptions.MemoryLimit"/>).</summary>
    public long? MemoryLimit { get; init; }
}
