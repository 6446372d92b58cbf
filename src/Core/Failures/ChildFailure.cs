using System.Text;
using LanguageExt;

namespace Nursery;

/// <summary>
/// What went wrong with one item in a child process. Exactly seven cases, each nested in this type:
/// <see cref="Faulted"/>, <see cref="StartFailed"/>, <see cref="Crashed"/>, <see cref="OutOfMemory"/>,
/// <see cref="TimedOut"/>, <see cref="ProtocolViolation"/>, <see cref="Cancelled"/>.
/// The family is closed (no other subclasses can exist), so <see cref="Match{TResult}"/> is exhaustive.
/// </summary>
/// <remarks>
/// Every case carries the stage name, the item's key (empty when the failure is not tied to an item,
/// such as a worker that never started), the attempt number (1-based), the child's process id
/// (0 when no process was started), the time spent and the last lines the child wrote to stderr.
/// </remarks>
public abstract partial record ChildFailure
{
    private protected ChildFailure() { }

    /// <summary>Closes the family: records get a protected copy constructor, so only this assembly may define cases.</summary>
    private protected abstract void OnlyNurseryCoreDefinesCases();

    /// <summary>The stage (or worker) the failure happened in.</summary>
    public string Stage { get; init; } = "";

    /// <summary>The item's key: its index in the source unless the caller gave a key; empty when no item was involved.</summary>
    public string Key { get; init; } = "";

    /// <summary>The attempt number, 1 for the first try.</summary>
    public int Attempt { get; init; } = 1;

    /// <summary>The child's process id; 0 when no process was started.</summary>
    public int ProcessId { get; init; }

    /// <summary>Time from when the item was handed to the child (or the start began) to when the failure was known.</summary>
    public TimeSpan Elapsed { get; init; }

    /// <summary>The last lines the child wrote to stderr before the failure, oldest first.</summary>
    public IReadOnlyList<string> StderrTail { get; init; } = [];

    /// <summary>The case, as in counts by kind and <see cref="RetryPolicy.RetryOn"/>; its name is the text in the job log (for example "OutOfMemory").</summary>
    public abstract FailureKind Kind { get; }

    /// <summary>One line saying what happened, without the context fields.</summary>
    public abstract string Summary { get; }

    /// <summary>Calls the function for this failure's case. Exhaustive: every case must be handled.</summary>
    public abstract TResult Match<TResult>(
        Func<Faulted, TResult> faulted,
        Func<StartFailed, TResult> startFailed,
        Func<Crashed, TResult> crashed,
        Func<OutOfMemory, TResult> outOfMemory,
        Func<TimedOut, TResult> timedOut,
        Func<ProtocolViolation, TResult> protocolViolation,
        Func<Cancelled, TResult> cancelled
    );

    /// <summary>Wraps this failure in an exception for code that prefers to throw; the message is <see cref="ToString"/>.</summary>
    public ChildProcessException ToException() => new(this);

    /// <summary>A report a person can act on: what happened, where, and what the child said. Sealed so every case uses it.</summary>
    public sealed override string ToString()
    {
        var report = new StringBuilder();
        report.Append(Kind).Append(": ").Append(Summary).AppendLine();
        report.Append("  stage ").Append(Stage.Length == 0 ? "(none)" : Stage);
        report.Append(", item ").Append(Key.Length == 0 ? "(none)" : Key);
        report.Append(", attempt ").Append(Attempt);
        report.Append(", pid ").Append(ProcessId == 0 ? "(not started)" : ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        report.Append(", after ").Append(Units.Duration(Elapsed)).AppendLine();
        AppendDetails(report);
        if (StderrTail.Count > 0)
        {
            report.AppendLine("  last stderr lines:");
            foreach (var line in StderrTail)
                report.Append("    | ").AppendLine(line);
        }
        report.Append("  what to do: ").Append(Advice);
        return report.ToString();
    }

    /// <summary>What a person should do about this kind of failure.</summary>
    public abstract string Advice { get; }

    private protected virtual void AppendDetails(StringBuilder report) { }

    /// <summary>The failure as an optional value, for pattern code that wants <see cref="Option{A}"/>.</summary>
    public Option<ChildFailure> AsOption() => this;
}
