using System.Globalization;
using System.Text;

namespace Nursery;

/// <summary>
/// A tab-separated log of every attempt, in GNU parallel's --joblog spirit, appended as the run goes:
/// <c>key, stage, attempt, pid, start (unix seconds), runtime (s), outcome, detail</c>. Each item's end is a line with
/// stage "(end)", which <see cref="SucceededKeys"/> reads to resume a run with only the missing items.
/// </summary>
internal sealed class JobLog : IAsyncDisposable
{
    private const string Header = "key\tstage\tattempt\tpid\tstart\truntime_s\toutcome\tdetail";
    private const string EndStage = "(end)";
    private readonly Lock _gate = new();
    private readonly StreamWriter _writer;

    public JobLog(string path)
    {
        var fresh = !File.Exists(path) || new FileInfo(path).Length == 0;
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null)
            Directory.CreateDirectory(directory);
        _writer = new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read), new UTF8Encoding(false), 1 << 16);
        if (fresh)
            _writer.WriteLine(Header);
    }

    /// <summary>The keys a job log records as having ended with success.</summary>
    public static IReadOnlySet<string> SucceededKeys(string path)
    {
        var keys = new HashSet<string>(StringComparer.Ordinal);
        if (!File.Exists(path))
            return keys;
        foreach (var line in File.ReadLines(path))
        {
            var fields = line.Split('\t');
            if (fields.Length >= 7 && fields[1] == EndStage)
            {
                if (fields[6] == "Succeeded")
                    keys.Add(Unescape(fields[0]));
                else
                    keys.Remove(Unescape(fields[0]));
            }
        }
        return keys;
    }

    public void Attempt(ItemRecord record) =>
        Write(record.Key, record.Stage, record.Attempt, record.ProcessId, record.Start, (record.End - record.Start).TotalSeconds, record.Outcome, record.Detail);

    public void Ended(string key, string outcome, string detail) => Write(key, EndStage, 0, 0, DateTimeOffset.UtcNow, 0, outcome, detail);

    public async ValueTask DisposeAsync()
    {
        lock (_gate)
            _writer.Flush();
        await _writer.DisposeAsync().ConfigureAwait(false);
    }

    private void Write(string key, string stage, int attempt, int pid, DateTimeOffset start, double runtime, string outcome, string detail)
    {
        var line = string.Join(
            '\t',
            Escape(key),
            Escape(stage),
            attempt.ToString(CultureInfo.InvariantCulture),
            pid.ToString(CultureInfo.InvariantCulture),
            (start.ToUnixTimeMilliseconds() / 1000.0).ToString("0.000", CultureInfo.InvariantCulture),
            runtime.ToString("0.000", CultureInfo.InvariantCulture),
            outcome,
            Escape(detail)
        );
        lock (_gate)
            _writer.WriteLine(line);
    }

    private static string Escape(string text) => text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\t", "\\t", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal).Replace("\r", "", StringComparison.Ordinal);

    private static string Unescape(string text) => text.Replace("\\n", "\n", StringComparison.Ordinal).Replace("\\t", "\t", StringComparison.Ordinal).Replace("\\\\", "\\", StringComparison.Ordinal);
}
