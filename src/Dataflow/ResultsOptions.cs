namespace Nursery;

/// <summary>How a <see cref="Results{T}"/> holds items for its reader. An immutable record, validated when the block is built.</summary>
public sealed record ResultsOptions
{
    /// <summary>The name in failures, records and the job log.</summary>
    public string Name { get; init; } = "results";

    /// <summary>How many items may wait for the reader before the blocks sending to it wait (and, through them, the source).</summary>
    public int BoundedCapacity { get; init; } = 64;

    internal ResultsOptions Validate()
    {
        if (BoundedCapacity < 1)
            throw new ArgumentException($"BoundedCapacity is {BoundedCapacity}; it must be 1 or more items.", nameof(BoundedCapacity));
        if (string.IsNullOrWhiteSpace(Name))
            throw new ArgumentException("Name is empty; give the results a name for failures and records.", nameof(Name));
        return this;
    }
}
