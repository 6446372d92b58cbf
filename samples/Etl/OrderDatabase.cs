using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using Nursery.Etl.Bodies;

namespace Nursery.Etl;

/// <summary>
/// The write stage's database: rows are written in batches, one transaction each, by one writer loop. A row's
/// <see cref="WriteAsync"/> completes only when its batch has committed, so the run counts an item Succeeded (and the
/// job log says so) only once its row is in the database: an aborted or killed run leaves whole rows only. Rows are
/// keyed by line, so writing an item again replaces its row; <c>--resume</c> asks <see cref="Lines"/> about the items
/// the job log leaves in doubt.
/// </summary>
internal sealed class OrderDatabase : IAsyncDisposable
{
    private readonly SqliteConnection _connection;
    private readonly Channel<(Row Row, TaskCompletionSource Committed)> _queue = Channel.CreateUnbounded<(Row, TaskCompletionSource)>(new UnboundedChannelOptions { SingleReader = true });
    private readonly int _batchSize;
    private readonly Task _writer;
    private long _batches;

    private OrderDatabase(SqliteConnection connection, int batchSize)
    {
        _connection = connection;
        _batchSize = batchSize;
        _writer = Task.Run(WriteLoopAsync);
    }

    public long Batches => Interlocked.Read(ref _batches);

    /// <summary>Opens the database at <paramref name="path"/>; with <paramref name="fresh"/>, its two tables are recreated empty.</summary>
    public static OrderDatabase Open(string path, bool fresh, int batchSize)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        connection.Open();
        Execute(connection, """
            PRAGMA journal_mode = WAL;
            PRAGMA synchronous = NORMAL;
            """);
        if (fresh)
            Execute(connection, "DROP TABLE IF EXISTS orders; DROP TABLE IF EXISTS rejects;"); // the tables, never the user's file
        Execute(connection, """
            CREATE TABLE IF NOT EXISTS orders (
                line INTEGER PRIMARY KEY, id TEXT NOT NULL, created TEXT NOT NULL, customer_id TEXT NOT NULL,
                customer_name TEXT NOT NULL, country TEXT NOT NULL, region TEXT NOT NULL, currency TEXT NOT NULL,
                line_count INTEGER NOT NULL, units INTEGER NOT NULL, total_cents INTEGER NOT NULL, total_eur_cents INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS rejects (line INTEGER PRIMARY KEY, reason TEXT NOT NULL, raw TEXT NOT NULL);
            """);
        return new OrderDatabase(connection, batchSize);
    }

    /// <summary>Counts the rows of both tables of the database at <paramref name="path"/>.</summary>
    public static (long Orders, long Rejects) Count(string path)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        connection.Open();
        return (Scalar(connection, "SELECT COUNT(*) FROM orders"), Scalar(connection, "SELECT COUNT(*) FROM rejects"));
    }

    /// <summary>The line numbers that have a row (an order or a reject) in the database at <paramref name="path"/>; none when it has no tables yet.</summary>
    public static HashSet<long> Lines(string path)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        connection.Open();
        var lines = new HashSet<long>();
        using var tables = connection.CreateCommand();
        tables.CommandText = "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN ('orders', 'rejects')";
        if ((long)tables.ExecuteScalar()! < 2)
            return lines;
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT line FROM orders UNION ALL SELECT line FROM rejects";
        using var reader = command.ExecuteReader();
        while (reader.Read())
            lines.Add(reader.GetInt64(0));
        return lines;
    }

    /// <summary>Queues <paramref name="row"/>; completes when the transaction holding it has committed.</summary>
    public Task WriteAsync(Row row)
    {
        var committed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_queue.Writer.TryWrite((row, committed)))
            committed.SetException(new InvalidOperationException("the database writer has stopped"));
        return committed.Task;
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _writer.ConfigureAwait(false);
        await _connection.DisposeAsync().ConfigureAwait(false);
    }

    private async Task WriteLoopAsync()
    {
        var batch = new List<(Row Row, TaskCompletionSource Committed)>(_batchSize);
        while (await _queue.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            // Linger a moment for a fuller batch: one commit per row would cost more than the children's work.
            await Task.Delay(TimeSpan.FromMilliseconds(10)).ConfigureAwait(false);
            while (batch.Count < _batchSize && _queue.Reader.TryRead(out var next))
                batch.Add(next);
            try
            {
                Commit(batch);
                Interlocked.Increment(ref _batches);
                foreach (var (_, committed) in batch)
                    committed.TrySetResult();
            }
            catch (SqliteException exception)
            {
                foreach (var (_, committed) in batch)
                    committed.TrySetException(exception);
            }
            batch.Clear();
        }
    }

    private void Commit(List<(Row Row, TaskCompletionSource Committed)> batch)
    {
        using var transaction = _connection.BeginTransaction();
        using var order = _connection.CreateCommand();
        order.Transaction = transaction;
        order.CommandText = """
            INSERT OR REPLACE INTO orders VALUES ($line, $id, $created, $customer_id, $customer_name, $country, $region, $currency, $line_count, $units, $total, $total_eur)
            """;
        string[] names = ["$line", "$id", "$created", "$customer_id", "$customer_name", "$country", "$region", "$currency", "$line_count", "$units", "$total", "$total_eur"];
        foreach (var name in names)
            order.Parameters.Add(new SqliteParameter { ParameterName = name });
        using var reject = _connection.CreateCommand();
        reject.Transaction = transaction;
        reject.CommandText = "INSERT OR REPLACE INTO rejects VALUES ($line, $reason, $raw)";
        reject.Parameters.Add(new SqliteParameter { ParameterName = "$line" });
        reject.Parameters.Add(new SqliteParameter { ParameterName = "$reason" });
        reject.Parameters.Add(new SqliteParameter { ParameterName = "$raw" });
        foreach (var (row, _) in batch)
        {
            if (row.Order is { } o)
            {
                object[] values = [row.Index + 1, o.Id, o.Created, o.CustomerId, o.CustomerName, o.Country, o.Region, o.Currency, o.LineCount, o.Units, o.TotalCents, o.TotalEurCents];
                for (var i = 0; i < values.Length; i++)
                    order.Parameters[i].Value = values[i];
                order.ExecuteNonQuery();
            }
            else
            {
                reject.Parameters[0].Value = row.Index + 1;
                reject.Parameters[1].Value = row.Reject ?? "rejected";
                reject.Parameters[2].Value = row.Raw ?? "";
                reject.ExecuteNonQuery();
            }
        }
        transaction.Commit();
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static long Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (long)command.ExecuteScalar()!;
    }
}
