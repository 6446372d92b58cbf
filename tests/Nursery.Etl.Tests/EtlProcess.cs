using System.Text.Json;
using Microsoft.Data.Sqlite;
using Nursery.Tests.Support;

namespace Nursery.Etl.Tests;

/// <summary>The summary the sample writes with --summary (the fields the tests read).</summary>
public sealed record EtlSummary(
    string Outcome,
    int ExitCode,
    string Database,
    string JobLog,
    long Inputs,
    long Succeeded,
    long Failed,
    long Resumed,
    long OrderRows,
    long RejectRows,
    Dictionary<string, long> FailedByKind,
    Dictionary<string, StageCounts> Stages,
    Dictionary<string, int[]> ProcessIds,
    string AbortReason,
    string FirstFailure
);

/// <summary>One stage's attempts, from the library's progress report.</summary>
public sealed record StageCounts(long Succeeded, long Failed);

/// <summary>What one run of the sample left: its exit code, its output, its summary.</summary>
public sealed record EtlOutcome(int ExitCode, string Output, EtlSummary? Summary);

/// <summary>Starts the built sample (or any command) as a real process, with a bounded wait, and reads what it left.</summary>
public static class EtlProcess
{
    public static readonly string RepositoryRoot = Repository.Root;

    /// <summary>The sample built alongside this test assembly (same configuration).</summary>
    public static readonly string SampleDll = Path.Combine(
        RepositoryRoot,
        "samples/Etl/bin",
        new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name,
        "net10.0/Nursery.Etl.dll"
    );

    /// <summary>Runs the sample in <paramref name="directory"/> with <paramref name="arguments"/>, and reads summary.json.</summary>
    public static async Task<EtlOutcome> RunSampleAsync(string directory, params string[] arguments)
    {
        var summary = Path.Combine(directory, "summary.json");
        File.Delete(summary);
        var (exitCode, output) = await RunAsync(directory, TimeSpan.FromSeconds(90), "dotnet", [SampleDll, "--summary", summary, .. arguments]);
        return new EtlOutcome(exitCode, output, ReadSummary(summary));
    }

    public static EtlSummary? ReadSummary(string path) => File.Exists(path) ? JsonSerializer.Deserialize<EtlSummary>(File.ReadAllText(path)) : null;

    /// <summary>
    /// Runs a command with stdout and stderr captured; kills its process tree and throws if it outlives
    /// <paramref name="timeout"/>. At the first progress line ("[  1.0s] …") calls <paramref name="onProgress"/> with the pid.
    /// </summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string directory, TimeSpan timeout, string executable, IEnumerable<string> arguments, Action<int>? onProgress = null)
    {
        var signalled = false;
        var run = await ProcessRun.RunAsync(
            executable,
            arguments,
            directory,
            timeout,
            // The test host's MSBuild and test-platform variables must not leak into a nested `dotnet run`.
            start =>
            {
                foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase) || k.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase)).ToList())
                    start.Environment.Remove(name);
            },
            onProgress is null
                ? null
                : (pid, line) =>
                {
                    if (!signalled && line.StartsWith('['))
                    {
                        signalled = true;
                        onProgress(pid);
                    }
                }
        );
        if (run.TimedOut)
            throw new TimeoutException($"{executable} {string.Join(' ', arguments)} ran past {timeout}; output so far:\n{run.Stdout}\n{run.Stderr}");
        return (run.ExitCode, run.Stdout + run.Stderr);
    }

    public static (long Orders, long Rejects) CountRows(string database)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = database, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        connection.Open();
        return (Count(connection, "orders"), Count(connection, "rejects"));
    }

    /// <summary>Every column of every order row, one string a row, in line order.</summary>
    public static List<string> ReadOrders(string database)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = database, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT * FROM orders ORDER BY line";
        using var reader = command.ExecuteReader();
        var rows = new List<string>();
        while (reader.Read())
            rows.Add(string.Join('|', Enumerable.Range(0, reader.FieldCount).Select(i => reader.GetValue(i))));
        return rows;
    }

    /// <summary>The job log's last end line per item (a resumed run appends; the first line is the header): key → outcome.</summary>
    public static Dictionary<string, string> EndLines(string jobLog)
    {
        var ends = new Dictionary<string, string>();
        foreach (var fields in File.ReadLines(jobLog).Skip(1).Select(line => line.Split('\t')).Where(f => f[1] == "(end)"))
            ends[fields[0]] = fields[6];
        return ends;
    }

    /// <summary>The outcomes of every attempt in the job log (not the end lines).</summary>
    public static List<string> AttemptOutcomes(string jobLog) =>
        File.ReadLines(jobLog).Skip(1).Select(line => line.Split('\t')).Where(f => f[1] != "(end)" && f[1] != "(deliver)").Select(f => f[6]).ToList();

    public static Task AssertNoChildLeftAsync(EtlSummary summary) => Processes.AssertAllGoneAsync([.. summary.ProcessIds.Values]);

    /// <summary>How many distinct lines have a row in either table.</summary>
    public static long DistinctLines(string database)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = database, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(DISTINCT line) FROM (SELECT line FROM orders UNION ALL SELECT line FROM rejects)";
        return (long)command.ExecuteScalar()!;
    }

    private static long Count(SqliteConnection connection, string table)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT COUNT(*) FROM {table}";
        return (long)command.ExecuteScalar()!;
    }
}
