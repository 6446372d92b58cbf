using LanguageExt;

namespace Nursery.Engines;

/// <summary>One ended attempt of an item: its result or failure, the child that ran it (0 if none did) and when it ran.</summary>
internal readonly record struct Attempted<T>(Either<ChildFailure, T> Result, int ProcessId, DateTimeOffset Start, DateTimeOffset End);
