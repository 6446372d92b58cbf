namespace Nursery.Dataflow.Tests.Plumbing;

/// <summary>
/// The run's books in-process (no child involved): a progress report read while items end on other threads is one
/// consistent snapshot.
/// </summary>
public sealed class LedgerTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Fact]
    public void Every_progress_snapshot_read_while_items_end_on_other_threads_is_consistent()
    {
        const int Writers = 3;
        const int ItemsPerWriter = 300_000;
        const long Total = (long)Writers * ItemsPerWriter;
        var ledger = new Ledger(new NurseryOptions { MaxRecords = 0 }, jobLog: null);
        ledger.Input((int)Total);
        ledger.SourceDone();
        var violations = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var snapshots = 0L;
        var writing = Writers;

        void Write(int writer)
        {
            // Every way an item ends: a batch leaving the last stage, a sink's quick successes, one success, a failure.
            var random = new Random(writer);
            var keys = new string[8];
            for (var i = 0; i < keys.Length; i++)
                keys[i] = $"{writer}-{i}";
            for (var ended = 0; ended < ItemsPerWriter; )
            {
                var count = Math.Min(random.Next(1, keys.Length + 1), ItemsPerWriter - ended);
                switch (random.Next(4))
                {
                    case 0:
                        ledger.Ended("stage", keys[..count]);
                        break;
                    case 1:
                        ledger.SinkSucceeded("sink", count);
                        break;
                    case 2:
                        count = 1;
                        ledger.Succeeded("sink", keys[0]);
                        break;
                    default:
                        count = 1;
                        ledger.Failed(new ChildFailure.Crashed(137, 9, "") { Stage = "stage", Key = keys[0] });
                        break;
                }
                ended += count;
            }
            Interlocked.Decrement(ref writing);
        }

        void Read()
        {
            var previous = ledger.Progress();
            while (Volatile.Read(ref writing) > 0 && violations.Count < 10)
            {
                var now = ledger.Progress();
                snapshots++;
                var problem = Inconsistency(now) ?? (now.Succeeded < previous.Succeeded || now.Failed < previous.Failed || now.Done < previous.Done ? $"went back from {Show(previous)}" : null);
                if (problem is not null)
                    violations.Enqueue($"{Show(now)}: {problem}");
                previous = now;
            }
        }

        var threads = Enumerable.Range(0, Writers).Select(writer => new Thread(() => Write(writer))).Append(new Thread(Read)).ToArray();
        foreach (var thread in threads)
            thread.Start();
        foreach (var thread in threads)
            Assert.True(thread.Join(Bound), "a thread of the stress test did not finish in time");

        Assert.True(violations.IsEmpty, $"{violations.Count} inconsistent snapshots of {snapshots}, e.g.\n{string.Join("\n", violations)}");
        var end = ledger.Progress();
        Assert.Null(Inconsistency(end));
        Assert.Equal(Total, end.Done);
        Assert.Equal(0, end.InFlight);
        Assert.True(ledger.Drained.IsCompleted);
        var result = ledger.Result(completed: true, "", AbortCause.None);
        Assert.True(result.IsBalanced, result.ToString());
        Assert.Equal(end.Succeeded, result.Succeeded);
        Assert.Equal(end.Failed, result.Failed);
    }

    [Fact]
    public void A_snapshot_gives_the_counts_so_far_with_failures_by_kind_adding_up_to_failed()
    {
        var ledger = new Ledger(new NurseryOptions(), jobLog: null);
        ledger.Input(4);
        ledger.Ended("stage", ["0", "1"]);
        ledger.Failed(new ChildFailure.Crashed(137, 9, "") { Stage = "stage", Key = "2" });

        var progress = ledger.Progress();

        Assert.Equal((4L, 2L, 1L, 1L), (progress.Inputs, progress.Succeeded, progress.Failed, progress.InFlight));
        Assert.Equal(3, progress.Done);
        Assert.Equal(1, progress.FailedByKind[FailureKind.Crashed]);
        Assert.Equal(progress.Failed, progress.FailedByKind.Values.Sum());
    }

    /// <summary>What is wrong with one snapshot, or null.</summary>
    private static string? Inconsistency(PipelineProgress progress) =>
        progress switch
        {
            { Succeeded: < 0 } or { Failed: < 0 } or { InFlight: < 0 } => "a negative count",
            _ when progress.Inputs != progress.Done + progress.InFlight => "Inputs is not Done + InFlight",
            _ when progress.Failed != progress.FailedByKind.Values.Sum() => $"Failed is not the sum of FailedByKind ({progress.FailedByKind.Values.Sum()})",
            _ => null,
        };

    private static string Show(PipelineProgress progress) => $"{progress.Inputs} in, {progress.Succeeded} ok, {progress.Failed} failed, {progress.InFlight} in flight";
}
