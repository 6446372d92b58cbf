namespace Nursery;

/// <summary>How an in-process sink runs. Immutable.</summary>
public sealed record SinkOptions
{
    /// <summary>The sink's name in failures and records.</summary>
    public string Name { get; init; } = "sink";

    /// <summary>How many items the action handles at once (1: one at a time, in arrival order).</summary>
    public int Parallelism { get; init; } = 1;

    /// <summary>How many items may wait at the sink before its senders wait.</summary>
    public int BoundedCapacity { get; init; } = 1024;

    /// <summary>What a throwing action does; the scope's default policy when not set (a throw is Faulted, in-process).</summary>
    public LanguageExt.Option<Policy> Policy { get; init; }

    internal SinkOptions Validate()
    {
        if (Parallelism < 1)
            throw new ArgumentException($"Parallelism is {Parallelism}; it must be at least 1.", nameof(Parallelism));
        if (BoundedCapacity < 1)
            throw new ArgumentException($"BoundedCapacity is {BoundedCapacity}; it must be at least 1.", nameof(BoundedCapacity));
        if (string.IsNullOrWhiteSpace(Name))
            throw new ArgumentException("Name must not be empty.", nameof(Name));
        return this;
    }
}
