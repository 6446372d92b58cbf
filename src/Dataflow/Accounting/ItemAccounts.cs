using LanguageExt;

namespace Nursery;

/// <summary>
/// The accounting invariant of a run: every input is counted once when read and once when it ends (a success or a
/// failure of one kind), so that inputs = succeeded + failed, failed = the sum of the failures by kind, and the run
/// knows when nothing is left in flight. A success is one interlocked add; a failure is counted under the lock with its
/// kind; what has ended is always derived from the two totals, so no reader sees an end counted in one total and not
/// yet in another. Once closed (<see cref="Close"/>) no end is counted but those of the items it returned.
/// </summary>
internal sealed class ItemAccounts(int maxFailures)
{
    /// <summary>Every kind of failure, in the order results list them.</summary>
    public static readonly FailureKind[] Kinds = Enum.GetValues<FailureKind>();

    private readonly Lock _gate = new();
    /// <summary>Failures counted by kind, indexed by the kind's value.</summary>
    private readonly long[] _byKind = new long[Kinds.Length];
    private readonly List<ChildFailure> _failures = [];
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _inputs;
    private long _succeeded;
    private long _failed;
    private long _resumed;
    private bool _sourceDone;
    private bool _closed;
    private ChildFailure? _firstFailure;

    /// <summary>Completes when the source is exhausted and every input has ended.</summary>
    public Task Drained => _drained.Task;

    public long Inputs => Interlocked.Read(ref _inputs);

    public long Succeeded => Interlocked.Read(ref _succeeded);

    public long Resumed => Interlocked.Read(ref _resumed);

    /// <summary>Whether ends are no longer counted (<see cref="Close"/>).</summary>
    public bool IsClosed => Volatile.Read(ref _closed);

    /// <summary>Items read and not yet ended; the ends are read before the inputs, so it is never negative.</summary>
    public long InFlight
    {
        get
        {
            var ended = EndedCount;
            return Interlocked.Read(ref _inputs) - ended;
        }
    }

    /// <summary>Items that have ended, successes read before failures (an item is counted in only one of them).</summary>
    private long EndedCount => Interlocked.Read(ref _succeeded) + Interlocked.Read(ref _failed);

    /// <summary>The failure that ended an item first, Cancelled ones aside.</summary>
    public Option<ChildFailure> FirstFailure
    {
        get
        {
            lock (_gate)
                return _firstFailure is null ? Option<ChildFailure>.None : _firstFailure;
        }
    }

    /// <summary>Items read from the source, counted before any of them can end.</summary>
    public void Input(int count) => Interlocked.Add(ref _inputs, count);

    /// <summary>An item skipped because an earlier run finished it; not an input.</summary>
    public void Resume() => Interlocked.Increment(ref _resumed);

    /// <summary>The source has given its last item: the accounts drain once every input has ended.</summary>
    public void SourceDone()
    {
        Volatile.Write(ref _sourceDone, true);
        CheckDrained();
    }

    /// <summary>Items that came through, each counted once; ignored once closed.</summary>
    public void Succeed(long count)
    {
        if (IsClosed)
            return;
        Interlocked.Add(ref _succeeded, count);
        CheckDrained();
    }

    /// <summary>An item's final failure, counted once under its kind and kept (up to the cap); ignored once closed.</summary>
    public void Fail(ChildFailure failure)
    {
        if (IsClosed)
            return;
        Count(failure);
    }

    /// <summary>
    /// Stops counting ends and returns how many items are still in flight: each is to be ended with
    /// <see cref="EndLeft"/>, so that whatever of them ends later is not counted again. 0 when already closed.
    /// </summary>
    public long Close()
    {
        lock (_gate)
        {
            if (_closed)
                return 0;
            var left = InFlight;
            Volatile.Write(ref _closed, true);
            return left;
        }
    }

    /// <summary>The end of one of the items <see cref="Close"/> returned.</summary>
    public void EndLeft(ChildFailure failure) => Count(failure);

    private void Count(ChildFailure failure)
    {
        lock (_gate)
        {
            _byKind[(int)failure.Kind]++;
            // Under the lock with its kind, so a snapshot's failures add up to its total.
            Interlocked.Increment(ref _failed);
            _firstFailure ??= failure is ChildFailure.Cancelled ? null : failure;
            if (_failures.Count < maxFailures)
                _failures.Add(failure);
        }
        CheckDrained();
    }

    /// <summary>
    /// One consistent snapshot: the failures and their kinds read together under the lock, the successes, and the
    /// inputs last (every item that has ended was counted in before it ended), so no count is negative and in flight
    /// is what was read and has not ended. The failures kept are copied only when <paramref name="withFailures"/>.
    /// </summary>
    public Totals Snapshot(bool withFailures = false)
    {
        lock (_gate)
        {
            var failed = Interlocked.Read(ref _failed);
            var succeeded = Interlocked.Read(ref _succeeded);
            var inputs = Interlocked.Read(ref _inputs);
            var first = _firstFailure ?? _failures.FirstOrDefault();
            return new Totals(inputs, succeeded, failed, Interlocked.Read(ref _resumed), Kinds.ToDictionary(static kind => kind, kind => _byKind[(int)kind]), first, withFailures ? [.. _failures] : []);
        }
    }

    private void CheckDrained()
    {
        if (!Volatile.Read(ref _sourceDone))
            return;
        bool done;
        lock (_gate)
            done = _sourceDone && EndedCount >= Interlocked.Read(ref _inputs);
        if (done)
            _drained.TrySetResult();
    }

    /// <summary>
    /// The accounts at one moment. <paramref name="First"/> is the first failure that was not a cancellation, else the
    /// first failure kept; <paramref name="Failures"/> are the failures kept, in the order they were counted (when asked for).
    /// </summary>
    public sealed record Totals(long Inputs, long Succeeded, long Failed, long Resumed, Dictionary<FailureKind, long> ByKind, ChildFailure? First, ChildFailure[] Failures);
}
