using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Nursery;

/// <summary>Settings for a whole run: its deadline, default policy, records, job log and observers. An immutable record, validated when the scope is made. What one stage's children are is in <see cref="StageOptions"/>.</summary>
public sealed record NurseryOptions
{
    /// <summary>The whole run must end by then: when it passes, the run aborts like a fail-fast failure. Infinite by default.</summary>
    public TimeSpan Deadline { get; init; } = Timeout.InfiniteTimeSpan;

    /// <summary>The policy of stages and sinks whose <see cref="StageOptions.Policy"/> or <see cref="SinkOptions.Policy"/> is null.</summary>
    public Policy DefaultPolicy { get; init; } = Policy.FailFast;

    /// <summary>After an abort, how long the run waits for items to drain out of blocks before counting the rest Cancelled and returning.</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How many per-attempt records the result keeps in memory (failures first); the job log has them all.</summary>
    public int MaxRecords { get; init; } = 100_000;

    /// <summary>
    /// A file to append one tab-separated line per item attempt to, in GNU parallel's --joblog spirit.
    /// A missing or empty file starts a new log; an existing file must be a job log (its header names the format and
    /// version), else <c>RunAsync</c> refuses it. Null (the default): no job log. See docs/dataflow.md for what the log holds after a crash.
    /// </summary>
    public string? JobLog { get; init; }

    /// <summary>Skip items whose key the job log already records as succeeded (needs <see cref="JobLog"/>).</summary>
    public bool Resume { get; init; }

    /// <summary>
    /// On <see cref="Resume"/>, for an item the job log leaves in doubt (a sink had started its action and the run
    /// stopped before the item's end line was written), whether the sink already has it: true skips it (counted in
    /// <c>Resumed</c>), false runs it again. Ask the sink's own store (the database, the output file) to make a killed
    /// and resumed run deliver every item exactly once. Unset: items in doubt run again (at least once).
    /// </summary>
    public Func<string, bool>? ResumeInDoubt { get; init; }

    /// <summary>
    /// Also <c>fsync</c> the job log after each write, so its lines survive a crash of the machine (power loss, kernel
    /// panic), not only of this process. Costs a disk flush per write: one per array a sink takes, typically
    /// milliseconds on a disk. Off by default: a write reaches the OS at once either way.
    /// </summary>
    public bool SyncJobLog { get; init; }

    /// <summary>Where child stderr lines and the supervisor's notes go, for every stage whose <see cref="WorkerOptions.Logger"/> is null.</summary>
    public ILogger Logger { get; init; } = NullLogger.Instance;

    /// <summary>
    /// Where the Nursery meter comes from, for the run's counters and every stage whose <see cref="WorkerOptions.MeterFactory"/>
    /// is null (a host's <see cref="System.Diagnostics.Metrics.IMeterFactory"/>); null: the static meter named "Nursery".
    /// </summary>
    public System.Diagnostics.Metrics.IMeterFactory? MeterFactory { get; init; }

    /// <summary>Receives counts while the run goes (every <see cref="ProgressInterval"/>) and once at the end; null (the default): none.</summary>
    public IProgress<PipelineProgress>? Progress { get; init; }

    /// <summary>How often <see cref="Progress"/> hears from the run.</summary>
    public TimeSpan ProgressInterval { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Throws <see cref="ArgumentException"/> naming the first option out of range.</summary>
    public NurseryOptions Validate()
    {
        if (Deadline != Timeout.InfiniteTimeSpan && Deadline <= TimeSpan.Zero)
            throw new ArgumentException($"Deadline is {Deadline}; it must be positive, or Timeout.InfiniteTimeSpan for none.", nameof(Deadline));
        if (DrainTimeout < TimeSpan.Zero)
            throw new ArgumentException($"DrainTimeout is {DrainTimeout}; it must be zero or positive.", nameof(DrainTimeout));
        if (MaxRecords < 0)
            throw new ArgumentException($"MaxRecords is {MaxRecords}; it must be 0 or more.", nameof(MaxRecords));
        if (JobLog is not null && string.IsNullOrWhiteSpace(JobLog))
            throw new ArgumentException("JobLog is empty; give it a file path, or leave it null for no job log.", nameof(JobLog));
        if (Resume && JobLog is null)
            throw new ArgumentException("Resume needs a JobLog file to read which items already succeeded; set JobLog to the log of the run it resumes.", nameof(Resume));
        if (ProgressInterval <= TimeSpan.Zero)
            throw new ArgumentException($"ProgressInterval is {ProgressInterval}; it must be positive.", nameof(ProgressInterval));
        if (DefaultPolicy is null)
            throw new ArgumentException("DefaultPolicy is null; leave it unset for Policy.FailFast, or give a policy.", nameof(DefaultPolicy));
        if (Logger is null)
            throw new ArgumentException("Logger is null; leave it unset for none, or give a logger.", nameof(Logger));
        DefaultPolicy.Validate();
        return this;
    }
}
