namespace Nursery.Engines;

/// <summary>
/// How a block runs one attempt of one item, for the <see cref="AttemptLoop"/>: started, then read once what
/// <see cref="Start"/> gave has completed. A struct implements it (the loop keeps one copy, so the attempt may keep
/// what it needs between the two calls), so an item's attempts cost no allocation beyond the loop's own.
/// </summary>
internal interface IAttempt<T>
{
    /// <summary>
    /// Starts attempt <paramref name="attempt"/> (1 is the first) with <paramref name="memoryLimit"/>; gives what
    /// completes when it has ended. A fault of that task is the attempt's to read in <see cref="End"/>.
    /// </summary>
    Task Start(int attempt, long memoryLimit);

    /// <summary>Reads the attempt <paramref name="running"/> (completed) ran. Throws only for a defect.</summary>
    Attempted<T> End(Task running, int attempt);

    /// <summary>The item came through (its success is already recorded as an attempt): count it where it ends here.</summary>
    void Succeeded();

    /// <summary>Whether what runs the attempts has stopped for good (a pool past its restart intensity), so a start failure stops the stage.</summary>
    bool RunnerFailed { get; }
}
