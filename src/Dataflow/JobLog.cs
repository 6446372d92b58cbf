using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Nursery;

/// <summary>
/// The run's journal: a tab-separated log of every attempt, in GNU parallel's --joblog spirit, appended as the run goes:
/// <c>key, stage, attempt, pid, start (unix seconds), runtime (s), outcome, detail</c>, under a header line that names
/// the format and its version. Each item's end is a line with stage "(end)"; a sink writes a "(deliver)" line for an
/// item before its action starts. Lines are collected in memory and written with one <c>write(2)</c> when a caller
/// flushes (the sink, before and after it hands items to its action; a stage, before it hands ended items to a block
/// outside the scope), when 64 KiB are waiting, and at the end of the run; see docs/dataflow.md for the guarantee.
/// </summary>
internal sealed partial class JobLog : IAsyncDisposable
{
    /// <summary>The format's name, in the header.</summary>
    public const string Format = "nursery-joblog";

    /// <summary>The format's version, in the header.</summary>
    public const int Version = 1;

    /// <summary>The first line of every job log (then the column names).</summary>
    public static readonly string Header = $"#{Format} {Version}\tkey\tstage\tattempt\tpid\tstart\truntime_s\toutcome\tdetail";

    public const string EndStage = "(end)";
    public const string DeliverStage = "(deliver)";

    /// <summary>The outcome column of a "(deliver)" line; an attempt's and an end line's is an <see cref="ItemOutcome"/>'s text.</summary>
    public const string DeliverOutcome = "Started";
    private const int Fields = 8;
    private const int FlushAt = 1 << 16;

    private readonly Lock _gate = new();
    private readonly FileStream _file;
    private readonly bool _sync;
    private readonly StringBuilder _lines = new();
    private readonly Encoder _encoder = new UTF8Encoding(false).GetEncoder();
    private byte[] _bytes = new byte[4096];
    private bool _disposed;

    private JobLog(FileStream file, bool sync)
    {
        _file = file;
        _sync = sync;
    }

    /// <summary>
    /// Opens the job log at <paramref name="path"/> for appending: a missing or empty file starts a new log (its header
    /// written at once); an existing one must begin with this format's header. A last line cut off by a killed writer is
    /// removed, with a warning, so the next line does not join it.
    /// </summary>
    /// <exception cref="InvalidDataException">The file is not a job log of this format and version.</exception>
    public static JobLog Open(string path, bool sync, ILogger logger)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null)
            Directory.CreateDirectory(directory);
        // No buffer of its own: every Write is one write(2); the lines wait in _lines until a flush.
        var file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read, bufferSize: 0);
        try
        {
            // A device or a pipe (/dev/null, say) cannot be read back: it is written to as a new log.
            var length = file.CanSeek ? file.Length : 0;
            if (length > 0)
                length = CheckAndTrim(file, path, logger);
            var log = new JobLog(file, sync);
            if (length == 0)
            {
                lock (log._gate)
                {
                    log._lines.Append(Header).Append('\n');
                    log.FlushLocked();
                }
            }
            return log;
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Checks the header and cuts a torn last line; leaves the file positioned at its end and returns its length.
    /// </summary>
    private static long CheckAndTrim(FileStream file, string path, ILogger logger)
    {
        var length = file.Length;
        var head = new byte[(int)Math.Min(length, 4096)];
        file.Position = 0;
        file.ReadExactly(head);
        var firstEnd = Array.IndexOf(head, (byte)'\n');
        var first = Encoding.UTF8.GetString(head, 0, firstEnd < 0 ? head.Length : firstEnd);
        if (firstEnd < 0 && length <= Header.Length && Header.StartsWith(first, StringComparison.Ordinal))
        {
            // Only part of the header was written before the writer died: nothing was logged yet.
            LogTornLine(logger, path, first);
            file.SetLength(0);
            return 0;
        }
        if (first != Header)
            throw new InvalidDataException(NotAJobLog(path, first));

        var last = new byte[1];
        file.Position = length - 1;
        file.ReadExactly(last);
        if (last[0] != (byte)'\n')
        {
            var cut = LastLineStart(file, length);
            var torn = new byte[(int)Math.Min(length - cut, 200)];
            file.Position = cut;
            file.ReadExactly(torn);
            LogTornLine(logger, path, Encoding.UTF8.GetString(torn));
            file.SetLength(cut);
            length = cut;
        }
        file.Position = length;
        return length;
    }

    /// <summary>Where the last line of the file starts (just after the last newline).</summary>
    private static long LastLineStart(FileStream file, long length)
    {
        var block = new byte[4096];
        var end = length;
        while (end > 0)
        {
            var start = Math.Max(0, end - block.Length);
            var count = (int)(end - start);
            file.Position = start;
            file.ReadExactly(block, 0, count);
            var newline = Array.LastIndexOf(block, (byte)'\n', count - 1, count);
            if (newline >= 0)
                return start + newline + 1;
            end = start;
        }
        return 0;
    }

    private static string NotAJobLog(string path, string first)
    {
        var shown = first.Length > 80 ? first[..80] + "…" : first;
        var what = first.StartsWith("#" + Format + " ", StringComparison.Ordinal)
            ? $"was written in another version of the job-log format (its header is '{shown}'; this Nursery reads and writes version {Version})"
            : $"is not a Nursery job log (its first line is '{shown}', not the header '#{Format} {Version}…')";
        return $"The job log {path} {what}. Nursery appends to its own job logs only and never rewrites another file: "
            + "give NurseryOptions.JobLog a new path, or move the file away (or delete it) to start a new log; a resumed run needs the log of the run it resumes.";
    }

    /// <summary>
    /// What the job log at <paramref name="path"/> says of each key: <see cref="KeyState.Succeeded"/> when its last end
    /// line is a success; <see cref="KeyState.InDoubt"/> when a sink started its action (a "(deliver)" line) and no end
    /// line followed; keys whose last end is a failure are left out. A missing or empty file says nothing.
    /// </summary>
    /// <exception cref="InvalidDataException">The file is not a job log of this format, or a line of it is malformed.</exception>
    public static Dictionary<string, KeyState> Read(string path)
    {
        var states = new Dictionary<string, KeyState>(StringComparer.Ordinal);
        if (!File.Exists(path))
            return states;
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        if (file.Length == 0)
            return states;
        // A last line without its newline was cut off by a killed writer: it is not read (Open removes it, with a warning).
        file.Position = file.Length - 1;
        var torn = file.ReadByte() != '\n';
        file.Position = 0;
        using var reader = new StreamReader(file, new UTF8Encoding(false));
        var number = 0;
        string? line = reader.ReadLine();
        while (line is not null)
        {
            var next = reader.ReadLine();
            if (next is null && torn)
                break;
            number++;
            if (number == 1)
            {
                if (line != Header)
                    throw new InvalidDataException(NotAJobLog(path, line));
            }
            else
                Parse(path, number, line, states);
            line = next;
        }
        return states;
    }

    private static void Parse(string path, int number, ReadOnlySpan<char> line, Dictionary<string, KeyState> states)
    {
        Span<Range> fields = stackalloc Range[Fields + 1];
        if (line.Split(fields, '\t') != Fields)
            throw Malformed(path, number, $"it has not the {Fields} tab-separated fields of the header", line);
        var stage = line[fields[1]];
        if (!stage.SequenceEqual(EndStage) && !stage.SequenceEqual(DeliverStage))
            return;
        if (!TryUnescape(line[fields[0]], out var key))
            throw Malformed(path, number, "its key has an escape other than \\\\, \\t, \\n, \\r or \\uXXXX", line);
        if (stage.SequenceEqual(DeliverStage))
        {
            states[key] = KeyState.InDoubt;
            return;
        }
        if (!ItemOutcome.TryParse(line[fields[6]], out var outcome))
            throw Malformed(path, number, "its outcome is neither Succeeded nor a failure kind", line);
        if (outcome.IsSuccess)
            states[key] = KeyState.Succeeded;
        else
            states.Remove(key);
    }

    private static InvalidDataException Malformed(string path, int number, string why, ReadOnlySpan<char> line)
    {
        var shown = line.Length > 80 ? line[..80].ToString() + "…" : line.ToString();
        return new InvalidDataException(
            $"Line {number} of the job log {path} is malformed: {why} ('{shown}'). Nursery writes whole lines only (a cut-off last line is removed when the log is opened), so the file was changed by something else: restore it, or move it away to start a new log."
        );
    }

    /// <summary>A line for an attempt.</summary>
    public void Attempt(ItemRecord record) =>
        Write(record.Key, record.Stage, record.Attempt, record.ProcessId, record.Start, (record.End - record.Start).TotalSeconds, record.Outcome.ToString(), record.Detail);

    /// <summary>An item's end line.</summary>
    public void Ended(string key, ItemOutcome outcome, string detail) => Write(key, EndStage, 0, 0, DateTimeOffset.UtcNow, 0, outcome.ToString(), detail);

    /// <summary>The line a sink writes for an item before its action starts (flushed by the sink before it starts any).</summary>
    public void Delivering(string key, string sink, DateTimeOffset now) => Write(key, DeliverStage, 0, 0, now, 0, DeliverOutcome, sink);

    /// <summary>End lines for items in doubt that <see cref="NurseryOptions.ResumeInDoubt"/> says the sink has, written at once.</summary>
    public void Settled(IReadOnlyList<string> keys)
    {
        if (keys.Count == 0)
            return;
        foreach (var key in keys)
            Ended(key, ItemOutcome.Succeeded, "in doubt after the earlier run; NurseryOptions.ResumeInDoubt said the sink has it");
        Flush();
    }

    /// <summary>Writes the waiting lines with one <c>write(2)</c> (and <c>fsync</c> with <see cref="NurseryOptions.SyncJobLog"/>).</summary>
    public void Flush()
    {
        lock (_gate)
            FlushLocked();
    }

    public async ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            if (_disposed)
                return;
            FlushLocked();
            _disposed = true;
        }
        await _file.DisposeAsync().ConfigureAwait(false);
    }

    private void Write(string key, string stage, int attempt, int pid, DateTimeOffset start, double runtime, string outcome, string detail)
    {
        lock (_gate)
        {
            if (_disposed)
                return;
            var lines = _lines;
            AppendEscaped(lines, key);
            lines.Append('\t');
            AppendEscaped(lines, stage);
            lines.Append('\t').Append(attempt).Append('\t').Append(pid).Append('\t');
            lines.Append((start.ToUnixTimeMilliseconds() / 1000.0).ToString("0.000", CultureInfo.InvariantCulture)).Append('\t');
            lines.Append(runtime.ToString("0.000", CultureInfo.InvariantCulture)).Append('\t');
            AppendEscaped(lines, outcome);
            lines.Append('\t');
            AppendEscaped(lines, detail);
            lines.Append('\n');
            if (lines.Length >= FlushAt)
                FlushLocked();
        }
    }

    private void FlushLocked()
    {
        if (_lines.Length == 0 || _disposed)
            return;
        var count = Encoding.UTF8.GetMaxByteCount(_lines.Length);
        if (_bytes.Length < count)
            _bytes = new byte[Math.Max(count, _bytes.Length * 2)];
        // One encoder across the builder's chunks: a surrogate pair split between two chunks stays one character.
        var written = 0;
        foreach (var chunk in _lines.GetChunks())
            written += _encoder.GetBytes(chunk.Span, _bytes.AsSpan(written), flush: false);
        written += _encoder.GetBytes([], _bytes.AsSpan(written), flush: true);
        _lines.Clear();
        _file.Write(_bytes, 0, written);
        if (_sync)
            _file.Flush(flushToDisk: true);
    }

    /// <summary>
    /// The text as one field: <c>\</c>, tab, LF, CR, the other control characters and lone surrogates (which UTF-8
    /// cannot carry) become escapes (<c>\\ \t \n \r \uXXXX</c>); <see cref="TryUnescape"/> gives the text back exactly.
    /// </summary>
    public static string Escape(string text)
    {
        if (!NeedsEscape(text))
            return text;
        var builder = new StringBuilder(text.Length + 8);
        AppendEscapedSlowly(builder, text);
        return builder.ToString();
    }

    private static void AppendEscaped(StringBuilder builder, string text)
    {
        if (NeedsEscape(text))
            AppendEscapedSlowly(builder, text);
        else
            builder.Append(text);
    }

    private static bool NeedsEscape(string text)
    {
        foreach (var c in text)
        {
            if (c < ' ' || c == '\\' || c == '\x7f' || char.IsSurrogate(c))
                return true;
        }
        return false;
    }

    private static void AppendEscapedSlowly(StringBuilder builder, string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            switch (c)
            {
                case '\\':
                    builder.Append(@"\\");
                    break;
                case '\t':
                    builder.Append(@"\t");
                    break;
                case '\n':
                    builder.Append(@"\n");
                    break;
                case '\r':
                    builder.Append(@"\r");
                    break;
                default:
                    if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                    {
                        builder.Append(c).Append(text[++i]);
                    }
                    else if (c < ' ' || c == '\x7f' || char.IsSurrogate(c))
                        builder.Append(@"\u").Append(((int)c).ToString("X4", CultureInfo.InvariantCulture));
                    else
                        builder.Append(c);
                    break;
            }
        }
    }

    /// <summary>The inverse of <see cref="Escape"/>; false for an escape it never writes.</summary>
    public static bool TryUnescape(ReadOnlySpan<char> text, out string result)
    {
        if (text.IndexOf('\\') < 0)
        {
            result = text.ToString();
            return true;
        }
        var builder = new StringBuilder(text.Length);
        result = "";
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c != '\\')
            {
                builder.Append(c);
                continue;
            }
            if (++i >= text.Length)
                return false;
            switch (text[i])
            {
                case '\\':
                    builder.Append('\\');
                    break;
                case 't':
                    builder.Append('\t');
                    break;
                case 'n':
                    builder.Append('\n');
                    break;
                case 'r':
                    builder.Append('\r');
                    break;
                case 'u' when i + 4 < text.Length && ushort.TryParse(text.Slice(i + 1, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var code):
                    builder.Append((char)code);
                    i += 4;
                    break;
                default:
                    return false;
            }
        }
        result = builder.ToString();
        return true;
    }

    [LoggerMessage(EventId = 40, Level = LogLevel.Warning, Message = "The job log {Path} ended in a cut-off line (its writer was killed mid-write); the line is ignored and removed so the next one starts on its own line: '{Torn}'")]
    private static partial void LogTornLine(ILogger logger, string path, string torn);

    [LoggerMessage(EventId = 41, Level = LogLevel.Warning, Message = "The job log {Path} leaves {Count} item(s) in doubt: a sink had started their action when the earlier run stopped, and no end line followed; {What}")]
    public static partial void LogInDoubt(ILogger logger, string path, int count, string what);

    /// <summary>What a job log says of a key.</summary>
    public enum KeyState
    {
        /// <summary>Its last end line is a success.</summary>
        Succeeded,

        /// <summary>A sink started its action and no end line followed: the item may or may not have been delivered.</summary>
        InDoubt,
    }
}
