namespace Nursery;

/// <summary>A block made by a <see cref="NurseryScope"/>: the scope completes it, watches it and accounts for its items.</summary>
internal interface INurseryBlock
{
    NurseryScope Scope { get; }

    string Name { get; }

    /// <summary>The block's policy (the run's default when it sets none); an input the feed refuses (a null) follows the entry's.</summary>
    Policy Policy { get; }

    Task Completion { get; }

    void Complete();

    /// <summary>Another block of the scope sends to this one; this one completes when all such senders have.</summary>
    void AddUpstream(INurseryBlock upstream);

    IReadOnlyList<INurseryBlock> Upstreams { get; }

    /// <summary>Called once when the run starts: start children, drop output nobody takes.</summary>
    Task StartAsync(CancellationToken cancellationToken);

    /// <summary>Drops whatever output is left (every item is already accounted for), so the block can complete.</summary>
    void DiscardOutput();

    /// <summary>Called once when the run ends: reap every child.</summary>
    ValueTask StopAsync();
}
