using FsCheck;

namespace Nursery.Testing;

/// <summary>
/// What one isolated property run found, as data to assert on: passed, or falsified with the shrunk counterexample,
/// the child's failure for it, FsCheck's report and the replay seed. Every child of the run was reaped before this was
/// made.
/// </summary>
/// <typeparam name="TIn">The property's input.</typeparam>
public sealed record IsolatedRun<TIn>
{
    /// <summary>Every case passed.</summary>
    public required bool Passed { get; init; }

    /// <summary>A case was falsified (by the assertion or by the child's failure), and shrunk.</summary>
    public required bool Falsified { get; init; }

    /// <summary>The smallest input FsCheck's shrinking found that still falsifies the property; default when it passed.</summary>
    // Not TIn?: F# reads an annotated unconstrained generic as 'T | null and refuses it for value types.
    public TIn Counterexample { get; init; } = default!;

    /// <summary>The input first found to falsify the property, before shrinking; default when it passed.</summary>
    public TIn Original { get; init; } = default!;

    /// <summary>The child's failure for <see cref="Counterexample"/> (a crash, stack overflow, OOM, hang…); null when the assertion falsified it, or it passed.</summary>
    public ChildFailure? Failure { get; init; }

    /// <summary>The labels of the falsified case: the failure's report when a child failed.</summary>
    public IReadOnlyCollection<string> Labels { get; init; } = [];

    /// <summary>How many cases were tested before the first falsified one (or in all, when it passed).</summary>
    public int Tests { get; init; }

    /// <summary>How many shrinking steps succeeded.</summary>
    public int Shrinks { get; init; }

    /// <summary>The seed and size that replay the falsified case directly (<c>Config.WithReplay</c>): its first test is the original counterexample; null when it passed.</summary>
    public Replay? Replay { get; init; }

    /// <summary>FsCheck's own report of the run (the counterexample, its labels, the replay seed).</summary>
    public required string Report { get; init; }

    /// <summary>Every child process the run started (all gone by now).</summary>
    public IReadOnlyCollection<int> ProcessIds { get; init; } = [];

    /// <summary>How many children the run started: 1 plus one per failed child replaced.</summary>
    public int Spawns { get; init; }

    /// <summary>How many cases ran in children, shrinking candidates included.</summary>
    public int Cases { get; init; }

    /// <summary>The report.</summary>
    public override string ToString() => Report;
}
