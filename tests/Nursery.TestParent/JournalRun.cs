using System.Diagnostics;
using System.Globalization;
using Nursery.TestBodies;

namespace Nursery.TestParent;

/// <summary>
/// "journal JOBLOG DELIVERIES COUNT SPIN_MICROSECONDS [resume]": runs items 0..COUNT-1 through a stage of child
/// processes into a sink that appends each item's index to DELIVERIES (one write(2) per item, a fixed-width line) and
/// then spins, with a job log; the resume test SIGKILLs this process at random points and resumes it. Keys carry a
/// backslash, a tab, CR, LF, non-ASCII text and a lone surrogate, so they go through the job log's escaping. On resume
/// the items the job log leaves in doubt are settled from DELIVERIES, the sink's own record.
/// </summary>
public static class JournalRun
{
    /// <summary>The width of a line of the deliveries file: seven digits and a newline.</summary>
    public const int RecordLength = 8;

    public static async Task<int> RunAsync(string[] args)
    {
        var jobLog = args[0];
        var deliveries = args[1];
        var count = int.Parse(args[2], CultureInfo.InvariantCulture);
        var spin = TimeSpan.FromMicroseconds(int.Parse(args[3], CultureInfo.InvariantCulture));
        var resume = args.Length > 4 && args[4] == "resume";

        var delivered = ReadDeliveries(deliveries);
        await using var output = new FileStream(deliveries, FileMode.Append, FileAccess.Write, FileShare.Read, bufferSize: 0);
        var options = new NurseryOptions
        {
            JobLog = jobLog,
            Resume = resume,
            ResumeInDoubt = key => delivered.Contains(IndexOf(key)),
        };
        await using var scope = new NurseryScope(options);
        var stage = scope.Stage<int, int>(Bodies.Double, new StageOptions { Workers = 1 });
        var record = new byte[RecordLength];
        var sink = scope.Sink<int>(doubled =>
        {
            var index = doubled / 2;
            Span<char> text = stackalloc char[RecordLength];
            index.TryFormat(text, out _, "D7", CultureInfo.InvariantCulture);
            text[RecordLength - 1] = '\n';
            for (var i = 0; i < RecordLength; i++)
                record[i] = (byte)text[i];
            output.Write(record); // one write(2): the delivery is recorded before the action returns
            var until = Stopwatch.GetTimestamp() + (long)(spin.TotalSeconds * Stopwatch.Frequency);
            while (Stopwatch.GetTimestamp() < until)
                Thread.SpinWait(10);
        });
        stage.LinkTo(sink);
        Console.WriteLine("running");
        var result = await scope.RunAsync(Enumerable.Range(0, count), stage, Key);
        Console.WriteLine($"done inputs {result.Inputs} succeeded {result.Succeeded} resumed {result.Resumed} completed {result.Completed}");
        return result.Completed ? 0 : 1;
    }

    /// <summary>An item's key: its index, then characters the job log must escape and give back exactly.</summary>
    public static string Key(int index) => index.ToString(CultureInfo.InvariantCulture) + "|\\t\t\\|\r\n|é✓😀|\ud800";

    private static int IndexOf(string key) => int.Parse(key.AsSpan(0, key.IndexOf('|')), CultureInfo.InvariantCulture);

    /// <summary>The indices in the deliveries file; a cut-off last record (never written here: one write per record) is cut away.</summary>
    private static HashSet<int> ReadDeliveries(string path)
    {
        var indices = new HashSet<int>();
        if (!File.Exists(path))
            return indices;
        var bytes = File.ReadAllBytes(path);
        var whole = bytes.Length / RecordLength * RecordLength;
        if (whole != bytes.Length)
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Write);
            file.SetLength(whole);
        }
        for (var at = 0; at < whole; at += RecordLength)
            indices.Add(int.Parse(System.Text.Encoding.ASCII.GetString(bytes, at, RecordLength - 1), CultureInfo.InvariantCulture));
        return indices;
    }
}
