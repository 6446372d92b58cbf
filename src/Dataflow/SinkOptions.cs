namespace Nursery;

/// <summary>How an in-process sink runs. An immutable record, validated when the sink is built.</summary>
public sealed record SinkOptions
{
    /// <summary>The sink's name in failures and records.</summary>
    public string Name { get; init; } = "sink";

    /// <summary>How many items the action handles at once (1: one at a time, in arrival order).</summary>
    public int Parallelism { get; init; } = 1;

    /// <summary>How many items may wait at the sink before its senders wait.</summary>
    public int BoundedCapacity { get; init; } = 1024;

    /// <summary>What a throwing action does (a throw is Faulted, in-process); null: the scope's <see cref="NurseryOptions.DefaultPolicy"/>.</summary>
    public Policy? Policy { get; init; }

    internal SinkOptions Validate()
    {
        if (Parallelism < 1)
            throw new ArgumentException($"Parallelism is {Parallelism}; it must be 1 (one item at a time, in arrival order) or more.", nameof(Parallelism));
        if (BoundedCapacity < 1)
            throw new ArgumentException($"BoundedCapacity is {BoundedCapacity}; it must be 1 or more items.", nameof(BoundedCapacity));
        if (string.IsNullOrWhiteSpace(Name))
            throw new ArgumentException("Name is empty; give the sink a name for failures and records.", nameof(Name));
        Policy?.Validate();
        return this;
    }
}
