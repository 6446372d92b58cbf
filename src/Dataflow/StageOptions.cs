namespace Nursery;

/// <summary>
/// How one stage runs: a pool's settings (<see cref="PoolOptions"/>: how many children, their batches and lifecycle,
/// and <see cref="PoolOptions.Worker"/>, what each child is), and what a stage adds: its name, input capacity, order
/// and failure policy. An immutable record, validated when the stage is built. Every setting here reaches the stage's
/// pool and children unchanged; a null one comes from the scope's <see cref="NurseryOptions"/> where its summary says
/// so.
/// </summary>
public sealed record StageOptions : PoolOptions
{
    /// <summary>The stage's name in failures, records and logs (its children's too); null: the body's method name, or the command's file name. A second stage of the same name in a scope gets a suffix ("-2").</summary>
    public string? Name { get; init; }

    /// <summary>How many items may wait at the stage's input before senders wait (backpressure); null (automatic) follows the batch size: two rounds of batches, at least 16 items and at most Workers × ItemsPerWorker (trivial items), a few dozen for items that take milliseconds.</summary>
    public int? BoundedCapacity { get; init; }

    /// <summary>Keep the source's order in the output (at the cost of waiting for slow items).</summary>
    public bool Ordered { get; init; }

    /// <summary>What a failed item does; null: the scope's <see cref="NurseryOptions.DefaultPolicy"/>.</summary>
    public Policy? Policy { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting out of range, and what is allowed.</summary>
    public override StageOptions Validate()
    {
        if (Name is not null && string.IsNullOrWhiteSpace(Name))
            throw new ArgumentException("Name is empty; give the stage a name, or leave it null for the body's method name.", nameof(Name));
        if (BoundedCapacity < 1)
            throw new ArgumentException($"BoundedCapacity is {BoundedCapacity}; it must be 1 or more, or null to follow the batch size.", nameof(BoundedCapacity));
        if (Worker?.Name is { } workerName)
            throw new ArgumentException($"Worker.Name is '{workerName}'; a stage's children take the stage's name: set StageOptions.Name instead, and leave Worker.Name null.", "Worker.Name");
        base.Validate();
        Policy?.Validate();
        return this;
    }

    /// <summary>
    /// The stage's pool: these pool settings as they are (copied whole, so a new setting cannot be left behind), the
    /// children named <paramref name="name"/> and logging to the scope's logger (and meter factory) when <see cref="WorkerOptions.Logger"/> (<see cref="WorkerOptions.MeterFactory"/>) is null.
    /// </summary>
    internal PoolOptions ToPoolOptions(string name, NurseryOptions scope) =>
        PoolPart() with { Worker = Worker with { Name = name, Logger = Worker.Logger ?? scope.Logger, MeterFactory = Worker.MeterFactory ?? scope.MeterFactory } };
}
