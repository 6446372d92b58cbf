using LanguageExt;
using Nursery.Launch;

namespace Nursery.Supervision;

/// <summary>Why a child ended, from what is known once it is reaped. Pure: every fact comes in as an argument.</summary>
internal static class EndClassifier
{
    /// <summary>
    /// The failure that ends a child's items (before it is stamped with the stage, item and pid).
    /// </summary>
    /// <param name="exit">How the process ended, with the remote launcher's verdict if there is one.</param>
    /// <param name="memory">The memory cgroup's facts, when the child ran in one.</param>
    /// <param name="firstCause">The first reason the parent recorded for ending the child (a deadline, a protocol violation, a cancel), if any.</param>
    /// <param name="disposing">Whether the worker was being disposed: its items then end Cancelled, whatever else happened.</param>
    /// <param name="wasReady">Whether the child had reported ready; an end before that is a start failure.</param>
    /// <param name="itemsInFlight">How many items the child held unanswered.</param>
    public static ChildFailure Classify(ChildExit exit, MemoryFacts? memory, ChildFailure? firstCause, bool disposing, bool wasReady, int itemsInFlight)
    {
        var cause = disposing
            ? new ChildFailure.Cancelled("the worker was disposed", Option<ChildFailure>.None, true)
            : firstCause ?? FromExit(exit, memory, itemsInFlight);
        if (!wasReady && cause is not ChildFailure.StartFailed and not ChildFailure.Cancelled)
            cause = new ChildFailure.StartFailed($"the child ended before it was ready: {cause.Summary}");
        return cause;
    }

    /// <summary>What the exit status, the remote launcher and the memory cgroup say, when the parent gave no cause.</summary>
    public static ChildFailure FromExit(ChildExit exit, MemoryFacts? memory, int itemsInFlight)
    {
        if (exit.Verdict.Case is ChildFailure remote)
            return remote;
        if (memory is { OomKills: > 0 } oom)
            return new ChildFailure.OutOfMemory(oom.LimitBytes, oom.PeakBytes);
        return exit.Signal.Match(
            signal => new ChildFailure.Crashed(
                exit.ExitCode,
                signal,
                signal == 9
                    ? memory is not null
                        ? "Nursery did not send it, and the memory cgroup saw no OOM kill"
                        : "possibly out of memory (no memory limit was set, so an OOM kill cannot be told apart from another SIGKILL)"
                    : ""
            ),
            () => new ChildFailure.Crashed(exit.ExitCode, Option<int>.None, exit.ExitCode == 0 ? $"the child exited by itself with {itemsInFlight} items unanswered" : "")
        );
    }
}
