namespace Nursery.Tests.Support;

/// <summary>
/// What a process run by <see cref="ProcessRun"/> left: its exit code (-1 when it timed out and was killed), what it
/// wrote to stdout and to stderr, and whether it outlived its time.
/// </summary>
public sealed record ProcessOutcome(int ExitCode, string Stdout, string Stderr, bool TimedOut);
