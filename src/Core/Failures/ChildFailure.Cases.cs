using System.Globalization;
using System.Text;
using LanguageExt;

namespace Nursery;

public abstract partial record ChildFailure
{
    /// <summary>The body threw in the child, or its input or output could not be (de)serialized there.</summary>
    /// <param name="Error">The remote exception: type, message, stack trace and inner exceptions.</param>
    public sealed record Faulted(RemoteError Error) : ChildFailure
    {
        /// <inheritdoc />
        public override FailureKind Kind => FailureKind.Faulted;

        private protected override void OnlyNurseryCoreDefinesCases() { }

        /// <inheritdoc />
        public override string Summary => $"the body threw {Error.Type}: {Error.Message}";

        /// <inheritdoc />
        public override string Advice => "fix the body or its input; the child's stack trace is above.";

        /// <inheritdoc />
        public override TResult Match<TResult>(Func<Faulted, TResult> faulted, Func<StartFailed, TResult> startFailed, Func<Crashed, TResult> crashed, Func<OutOfMemory, TResult> outOfMemory, Func<TimedOut, TResult> timedOut, Func<ProtocolViolation, TResult> protocolViolation, Func<Cancelled, TResult> cancelled) => faulted(this);

        private protected override void AppendDetails(StringBuilder report) => Error.AppendTo(report, "  ");
    }

    /// <summary>The child never became ready: it could not be started, could not load the body, its initializer threw, or its pool restarted too often.</summary>
    /// <param name="Reason">Why, in words that say what to change.</param>
    /// <param name="Remote">The child's exception when the child itself reported the failure.</param>
    public sealed record StartFailed(string Reason, Option<RemoteError> Remote) : ChildFailure
    {
        /// <summary>A start failure with no remote exception.</summary>
        public StartFailed(string reason)
            : this(reason, Option<RemoteError>.None) { }

        /// <inheritdoc />
        public override FailureKind Kind => FailureKind.StartFailed;

        private protected override void OnlyNurseryCoreDefinesCases() { }

        /// <inheritdoc />
        public override string Summary => Reason;

        /// <inheritdoc />
        public override string Advice => "fix what the reason names (the executable, the assembly, the method or the initializer); retrying will not help.";

        /// <inheritdoc />
        public override TResult Match<TResult>(Func<Faulted, TResult> faulted, Func<StartFailed, TResult> startFailed, Func<Crashed, TResult> crashed, Func<OutOfMemory, TResult> outOfMemory, Func<TimedOut, TResult> timedOut, Func<ProtocolViolation, TResult> protocolViolation, Func<Cancelled, TResult> cancelled) => startFailed(this);

        private protected override void AppendDetails(StringBuilder report) => Remote.IfSome(error => error.AppendTo(report, "  "));
    }

    /// <summary>The child ended on its own: a non-zero exit, a native crash, a stack overflow, FailFast, or a signal nobody here sent.</summary>
    /// <param name="ExitCode">The exit status as the OS reported it (128 + n for signal n).</param>
    /// <param name="Signal">The signal that ended the child, when it was one.</param>
    /// <param name="Note">What else is known (for example "possibly out of memory" for a SIGKILL with no memory cgroup).</param>
    public sealed record Crashed(int ExitCode, Option<int> Signal, string Note) : ChildFailure
    {
        /// <inheritdoc />
        public override FailureKind Kind => FailureKind.Crashed;

        private protected override void OnlyNurseryCoreDefinesCases() { }

        /// <inheritdoc />
        public override string Summary
        {
            get
            {
                var what = Signal.Match(
                    signal => $"the child was killed by signal {signal} ({SignalName(signal)})",
                    () => $"the child exited with code {ExitCode.ToString(CultureInfo.InvariantCulture)}"
                );
                return Note.Length == 0 ? what : $"{what}; {Note}";
            }
        }

        /// <inheritdoc />
        public override string Advice =>
            Signal.Match(
                signal => signal == 9
                    ? "read the child's stderr above; a SIGKILL Nursery did not send came from another process, an operator, or the OOM killer (give the stage a MemoryLimit to tell them apart)."
                    : "read the child's stderr above; a native crash or an abort in the body or a library it calls ends the child like this.",
                () => "read the child's stderr above: the body (or a library it calls) ended the process, with Environment.Exit, exit(), FailFast or a stack overflow."
            );

        /// <inheritdoc />
        public override TResult Match<TResult>(Func<Faulted, TResult> faulted, Func<StartFailed, TResult> startFailed, Func<Crashed, TResult> crashed, Func<OutOfMemory, TResult> outOfMemory, Func<TimedOut, TResult> timedOut, Func<ProtocolViolation, TResult> protocolViolation, Func<Cancelled, TResult> cancelled) => crashed(this);

        /// <summary>The conventional name of a Linux signal number.</summary>
        public static string SignalName(int signal) =>
            signal switch
            {
                1 => "SIGHUP",
                2 => "SIGINT",
                3 => "SIGQUIT",
                4 => "SIGILL",
                5 => "SIGTRAP",
                6 => "SIGABRT",
                7 => "SIGBUS",
                8 => "SIGFPE",
                9 => "SIGKILL",
                11 => "SIGSEGV",
                13 => "SIGPIPE",
                14 => "SIGALRM",
                15 => "SIGTERM",
                _ => "signal " + signal.ToString(CultureInfo.InvariantCulture),
            };
    }

    /// <summary>The kernel's OOM killer ended the child because its memory cgroup reached its limit.</summary>
    /// <param name="LimitBytes">The memory limit the child ran under.</param>
    /// <param name="PeakBytes">The highest memory use recorded for the child, when known.</param>
    public sealed record OutOfMemory(long LimitBytes, Option<long> PeakBytes) : ChildFailure
    {
        /// <inheritdoc />
        public override FailureKind Kind => FailureKind.OutOfMemory;

        private protected override void OnlyNurseryCoreDefinesCases() { }

        /// <inheritdoc />
        public override string Summary =>
            $"the OOM killer ended the child at its memory limit of {Units.Bytes(LimitBytes)}"
            + PeakBytes.Match(peak => $" (peak use {Units.Bytes(peak)})", () => "");

        /// <inheritdoc />
        public override string Advice => "raise the stage's MemoryLimit, run fewer workers at once, or make the item smaller.";

        /// <inheritdoc />
        public override TResult Match<TResult>(Func<Faulted, TResult> faulted, Func<StartFailed, TResult> startFailed, Func<Crashed, TResult> crashed, Func<OutOfMemory, TResult> outOfMemory, Func<TimedOut, TResult> timedOut, Func<ProtocolViolation, TResult> protocolViolation, Func<Cancelled, TResult> cancelled) => outOfMemory(this);
    }

    /// <summary>
    /// A limit on time ran out: the item's deadline, or the child stopped sending heartbeats. The child was killed, unless
    /// its body can be stopped (it takes a cancellation token; a persistent command offers stops) and stopped when
    /// asked (<see cref="ChildKilled"/> false).
    /// </summary>
    /// <param name="Limit">Which limit ran out.</param>
    /// <param name="LimitValue">The limit's value.</param>
    public sealed record TimedOut(TimeoutKind Limit, TimeSpan LimitValue) : ChildFailure
    {
        /// <inheritdoc />
        public override FailureKind Kind => FailureKind.TimedOut;

        /// <summary>
        /// Whether the child was killed (the default); false when the body stopped at its cancellation token within
        /// <see cref="WorkerOptions.KillGrace"/> and the child went on serving.
        /// </summary>
        public bool ChildKilled { get; init; } = true;

        private protected override void OnlyNurseryCoreDefinesCases() { }

        /// <inheritdoc />
        public override string Summary =>
            Limit switch
            {
                TimeoutKind.ItemDeadline when !ChildKilled => $"the item ran past its deadline of {Units.Duration(LimitValue)}; its body stopped when asked to, and the child lives on",
                TimeoutKind.ItemDeadline => $"the item ran past its deadline of {Units.Duration(LimitValue)}; the child was killed",
                _ => $"the child sent no heartbeat for {Units.Duration(LimitValue)} (stopped or deadlocked); it was killed",
            };

        /// <inheritdoc />
        public override string Advice =>
            Limit == TimeoutKind.Heartbeat
                ? "look for a stopped process (SIGSTOP), a deadlock in native code or a machine under heavy swap."
                : "raise the limit if the work is slow but sound, or find why this item hangs.";

        /// <inheritdoc />
        public override TResult Match<TResult>(Func<Faulted, TResult> faulted, Func<StartFailed, TResult> startFailed, Func<Crashed, TResult> crashed, Func<OutOfMemory, TResult> outOfMemory, Func<TimedOut, TResult> timedOut, Func<ProtocolViolation, TResult> protocolViolation, Func<Cancelled, TResult> cancelled) => timedOut(this);
    }

    /// <summary>
    /// The child wrote something that is not the protocol (the child was killed), or a result for this item that the
    /// parent cannot decode as the output type or that is over <see cref="WorkerOptions.MaxResultBytes"/> (this item
    /// only; the channel is intact, so the child goes on).
    /// </summary>
    /// <param name="Detail">What was wrong.</param>
    /// <param name="BytesSeen">The first bytes of what was read (at most 64), for the report.</param>
    public sealed record ProtocolViolation(string Detail, IReadOnlyList<byte> BytesSeen) : ChildFailure
    {
        /// <inheritdoc />
        public override FailureKind Kind => FailureKind.ProtocolViolation;

        private protected override void OnlyNurseryCoreDefinesCases() { }

        /// <inheritdoc />
        public override string Summary => Detail;

        /// <inheritdoc />
        public override string Advice => "something in the child wrote to the protocol channel (its real stdout); write to stderr or a logger instead.";

        /// <inheritdoc />
        public override TResult Match<TResult>(Func<Faulted, TResult> faulted, Func<StartFailed, TResult> startFailed, Func<Crashed, TResult> crashed, Func<OutOfMemory, TResult> outOfMemory, Func<TimedOut, TResult> timedOut, Func<ProtocolViolation, TResult> protocolViolation, Func<Cancelled, TResult> cancelled) => protocolViolation(this);

        private protected override void AppendDetails(StringBuilder report)
        {
            if (BytesSeen.Count == 0)
                return;
            report.Append("  bytes seen: ");
            foreach (var b in BytesSeen)
                report.Append(b.ToString("x2", CultureInfo.InvariantCulture)).Append(' ');
            report.Append(" \"");
            foreach (var b in BytesSeen)
                report.Append(b is >= 32 and < 127 ? (char)b : '.');
            report.AppendLine("\"");
        }
    }

    /// <summary>The item never ran, or was stopped, because the run was aborted, the caller cancelled, or its worker ended while the item waited.</summary>
    /// <param name="Reason">Why it was cancelled.</param>
    /// <param name="Cause">The failure that caused the cancellation, when there was one.</param>
    /// <param name="ItemStarted">Whether the item may have started running in the child; false means it certainly did not, so running it elsewhere is safe.</param>
    public sealed record Cancelled(string Reason, Option<ChildFailure> Cause, bool ItemStarted) : ChildFailure
    {
        /// <inheritdoc />
        public override FailureKind Kind => FailureKind.Cancelled;

        private protected override void OnlyNurseryCoreDefinesCases() { }

        /// <inheritdoc />
        public override string Summary =>
            Reason + Cause.Match(cause => $" (because of {cause.Kind} of item {(cause.Key.Length == 0 ? "(none)" : cause.Key)} in stage {cause.Stage})", () => "");

        /// <inheritdoc />
        public override string Advice => "this item did nothing wrong; look at the failure that caused the cancellation.";

        /// <inheritdoc />
        public override TResult Match<TResult>(Func<Faulted, TResult> faulted, Func<StartFailed, TResult> startFailed, Func<Crashed, TResult> crashed, Func<OutOfMemory, TResult> outOfMemory, Func<TimedOut, TResult> timedOut, Func<ProtocolViolation, TResult> protocolViolation, Func<Cancelled, TResult> cancelled) => cancelled(this);
    }
}
