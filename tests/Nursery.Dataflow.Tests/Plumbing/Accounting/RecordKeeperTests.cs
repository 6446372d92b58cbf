using Microsoft.Extensions.Logging.Abstractions;

namespace Nursery.Dataflow.Tests.Plumbing.Accounting;

/// <summary>The record keeper in-process (no child involved): which attempts the result keeps, and what the job log gets.</summary>
public sealed class RecordKeeperTests : IDisposable
{
    private static readonly DateTimeOffset Start = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);

    private readonly string _directory = Directory.CreateTempSubdirectory("nursery-records-test-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static ItemRecord Record(string key, ItemOutcome outcome) => new("stage", key, 1, 4242, Start, Start.AddSeconds(1.5), outcome, outcome.IsSuccess ? "" : "killed by signal 9");

    [Fact]
    public void Attempts_are_kept_up_to_the_cap_and_then_a_failure_takes_the_place_of_a_success()
    {
        var keeper = new RecordKeeper(maxRecords: 2, jobLog: null);

        keeper.Attempt(Record("a", ItemOutcome.Succeeded));
        Assert.True(keeper.KeepsSuccesses);
        keeper.Attempt(Record("b", ItemOutcome.Succeeded));
        Assert.False(keeper.KeepsSuccesses);
        keeper.Attempt(Record("c", ItemOutcome.Failed(FailureKind.Crashed)));
        keeper.Attempt(Record("d", ItemOutcome.Succeeded));
        keeper.Attempt(Record("e", ItemOutcome.Failed(FailureKind.TimedOut)));
        keeper.Attempt(Record("f", ItemOutcome.Failed(FailureKind.Crashed)));

        Assert.Equal(["c", "e"], keeper.Records().Select(record => record.Key));
    }

    [Fact]
    public void No_record_is_kept_when_the_cap_is_zero()
    {
        var keeper = new RecordKeeper(maxRecords: 0, jobLog: null);

        keeper.Attempt(Record("a", ItemOutcome.Failed(FailureKind.Crashed)));

        Assert.Empty(keeper.Records());
        Assert.False(keeper.KeepsSuccesses);
        Assert.Null(keeper.JobLog);
    }

    [Fact]
    public async Task With_a_job_log_every_attempt_and_end_is_written_whatever_the_cap()
    {
        var path = Path.Combine(_directory, "run.tsv");
        var jobLog = JobLog.Open(path, sync: false, NullLogger.Instance);
        var keeper = new RecordKeeper(maxRecords: 0, jobLog);

        Assert.True(keeper.KeepsSuccesses);
        keeper.Attempt(Record("a", ItemOutcome.Failed(FailureKind.Crashed)));
        keeper.Ended("a", ItemOutcome.Failed(FailureKind.Crashed), "killed by signal 9", writeNow: true);
        // Written at once: the lines are in the file before the log is closed.
        var written = await File.ReadAllLinesAsync(path);
        keeper.Attempt(Record("b", ItemOutcome.Succeeded));
        keeper.Succeeded(["b", "c"]);
        await jobLog.DisposeAsync();

        Assert.Empty(keeper.Records());
        Assert.Equal([JobLog.Header, "a\tstage\t1\t4242\t1800000000.000\t1.500\tCrashed\tkilled by signal 9"], written[..2]);
        Assert.StartsWith($"a\t{JobLog.EndStage}\t0\t0\t", written[2], StringComparison.Ordinal);
        Assert.EndsWith("\tCrashed\tkilled by signal 9", written[2], StringComparison.Ordinal);
        var states = JobLog.Read(path);
        Assert.Equal(["b", "c"], states.Keys.Order(StringComparer.Ordinal));
        Assert.All(states.Values, state => Assert.Equal(JobLog.KeyState.Succeeded, state));
    }
}
