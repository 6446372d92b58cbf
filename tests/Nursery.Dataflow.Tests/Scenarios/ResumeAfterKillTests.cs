using System.Diagnostics;
using System.Globalization;
using Nursery.TestParent;
using Nursery.Tests.Support;

namespace Nursery.Dataflow.Tests.Scenarios;

/// <summary>
/// A real parent process (tests/Nursery.TestParent, "journal" mode) runs a pipeline with a job log into a sink that
/// records each delivery in a file; the test SIGKILLs it at random points and resumes it, then counts the deliveries.
/// </summary>
public sealed class ResumeAfterKillTests : IDisposable
{
    private const int RecordLength = JournalRun.RecordLength;
    private const int Count = 30_000;
    private readonly string _directory = Directory.CreateTempSubdirectory("nursery-resume-kill-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string JobLogPath => Path.Combine(_directory, "run.tsv");

    private string Deliveries => Path.Combine(_directory, "deliveries");

    [Fact]
    public async Task A_parent_killed_20_times_at_random_points_and_resumed_each_time_delivers_every_key_exactly_once()
    {
        const int kills = 20;
        var seed = Environment.TickCount;
        var random = new Random(seed);
        var notes = new List<string> { $"seed {seed}" };
        var killed = 0;
        for (var run = 0; killed < kills && run < 2 * kills; run++)
        {
            // Killed when the sink has delivered up to 800 items more than before (0: as soon as the run starts).
            var threshold = DeliveredRecords() + random.Next(0, 800);
            // The sink spins 60 µs an item, so a poll of the deliveries that comes late (a busy machine) overshoots
            // its threshold by a few hundred items, not by the thousands that would end the run before its 20 kills.
            using var parent = StartParent(spinMicroseconds: 60, resume: run > 0);
            try
            {
                Assert.Equal("running", await parent.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60)));
                var waited = Stopwatch.StartNew();
                while (!parent.HasExited && DeliveredRecords() < threshold && waited.Elapsed < TimeSpan.FromSeconds(60))
                    await Task.Delay(1);
                if (parent.HasExited)
                {
                    notes.Add($"run {run} ended before its kill (exit {parent.ExitCode})");
                    break;
                }
                var children = Processes.ChildrenOf(parent.Id);
                Processes.Signal(parent.Id, Processes.SigKill);
                await parent.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
                killed++;
                notes.Add($"run {run} killed at {DeliveredRecords()} deliveries, {children.Count} children");
                foreach (var child in children)
                    await Processes.AssertGoneAsync(child, TimeSpan.FromSeconds(5));
            }
            finally
            {
                if (!parent.HasExited)
                    parent.Kill(entireProcessTree: true);
            }
        }
        Assert.True(killed == kills, string.Join('\n', notes));

        using (var last = StartParent(spinMicroseconds: 0, resume: true))
        {
            try
            {
                await last.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
            }
            finally
            {
                if (!last.HasExited)
                    last.Kill(entireProcessTree: true);
            }
            var output = await last.StandardOutput.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(10));
            Assert.True(last.ExitCode == 0, output + string.Join('\n', notes));
        }

        var counts = new int[Count];
        var bytes = await File.ReadAllBytesAsync(Deliveries);
        Assert.Equal(0, bytes.Length % RecordLength);
        for (var at = 0; at < bytes.Length; at += RecordLength)
            counts[int.Parse(System.Text.Encoding.ASCII.GetString(bytes, at, RecordLength - 1), CultureInfo.InvariantCulture)]++;
        var duplicates = Enumerable.Range(0, Count).Where(i => counts[i] > 1).ToList();
        var missing = Enumerable.Range(0, Count).Where(i => counts[i] == 0).ToList();
        var summary = $"{duplicates.Count} duplicates (first {string.Join(", ", duplicates.Take(10))}), {missing.Count} missing (first {string.Join(", ", missing.Take(10))})\n{string.Join('\n', notes)}";
        Assert.True(duplicates.Count == 0 && missing.Count == 0, summary);
        // The job log, read back, records every key (escaped and unescaped on the way) as succeeded, and no other.
        var logged = JobLog.Read(JobLogPath);
        var expected = Enumerable.Range(0, Count).Select(JournalRun.Key).ToHashSet();
        var unexpected = logged.Keys.Where(key => !expected.Contains(key)).Take(5).Select(key => $"'{JobLog.Escape(key)}' {logged[key]}");
        var notSucceeded = expected.Where(key => !logged.TryGetValue(key, out var state) || state != JobLog.KeyState.Succeeded).Take(5).Select(JobLog.Escape);
        Assert.True(logged.Count == Count && logged.Values.All(state => state == JobLog.KeyState.Succeeded), $"unexpected keys: {string.Join(", ", unexpected)}; not succeeded: {string.Join(", ", notSucceeded)}");
        // The kills left items in doubt (the sink is the bottleneck, so most kills land while it delivers), and the
        // resumed runs settled those the sink had: the path that makes exactly once possible was taken.
        var settled = File.ReadLines(JobLogPath).Count(line => line.Contains("\t(end)\t", StringComparison.Ordinal) && line.Contains("ResumeInDoubt said the sink has it", StringComparison.Ordinal));
        Assert.True(settled > 0, "no kill left an item in doubt that the sink had\n" + string.Join('\n', notes));
    }

    private long DeliveredRecords() => File.Exists(Deliveries) ? new FileInfo(Deliveries).Length / RecordLength : 0;

    private Process StartParent(int spinMicroseconds, bool resume) =>
        ParentProcess.Start([ "journal", JobLogPath, Deliveries, Count.ToString(CultureInfo.InvariantCulture), spinMicroseconds.ToString(CultureInfo.InvariantCulture), .. (resume ? new[] { "resume" } : []) ]);

}
