namespace Nursery;

/// <summary>One attempt of one item in one stage: who ran it, when, and how it ended (<see cref="ItemOutcome.Succeeded"/> or a failure of one kind).</summary>
/// <param name="Stage">The stage (or sink).</param>
/// <param name="Key">The item's key.</param>
/// <param name="Attempt">The attempt number, from 1.</param>
/// <param name="ProcessId">The child that ran it; 0 when none did (in-process sinks, items never sent).</param>
/// <param name="Start">When the attempt started.</param>
/// <param name="End">When it ended.</param>
/// <param name="Outcome">Succeeded, or a failure of the failure's kind.</param>
/// <param name="Detail">The failure's summary; empty on success.</param>
public sealed record ItemRecord(string Stage, string Key, int Attempt, int ProcessId, DateTimeOffset Start, DateTimeOffset End, ItemOutcome Outcome, string Detail);
