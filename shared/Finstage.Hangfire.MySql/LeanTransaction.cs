using MySqlConnector;

namespace Finstage.Hangfire.MySql;

/// <summary>
/// A READ COMMITTED transaction whose begin travels in the same round trip as its first statements and whose
/// COMMIT travels with its last, as one <see cref="MySqlBatch"/> each: a write-only transaction is one round trip
/// however many statements it has. The server runs a batch's statements in order and stops at the first error,
/// so a failure leaves the transaction open with part of it done; <see cref="Dispose"/> then rolls it back.
/// </summary>
internal sealed class LeanTransaction(MySqlConnection connection) : IDisposable
{
    // SET TRANSACTION (not SESSION) applies to the next transaction only, so the pooled session keeps no setting;
    // and it fails with 1568 inside an open transaction, so a leftover transaction is an error, never silently joined.
    private static readonly Statement ReadCommitted = new("SET TRANSACTION ISOLATION LEVEL READ COMMITTED");
    private static readonly Statement Begin = new("START TRANSACTION");
    private static readonly Statement End = new("COMMIT");

    private bool _begun;
    private bool _ended;

    /// <summary>Runs one query inside the transaction (beginning it in the same round trip) and maps its rows.</summary>
    public List<T> Query<T>(Statement statement, Func<MySqlDataReader, T> map)
    {
        ObjectDisposedException.ThrowIf(_ended, this);
        var prefix = _begun ? [] : new[] { ReadCommitted, Begin };
        _begun = true;
        using var batch = Batch([.. prefix, statement]);
        using var reader = batch.ExecuteReader();
        var rows = new List<T>();
        while (reader.Read())
        {
            rows.Add(map(reader));
        }

        return rows;
    }

    /// <summary>
    /// Runs statements inside the transaction (beginning it in the same round trip) and hands the reader, at the first
    /// result set they return, to <paramref name="read"/>.
    /// </summary>
    public T Read<T>(IReadOnlyList<Statement> statements, Func<MySqlDataReader, T> read)
    {
        ObjectDisposedException.ThrowIf(_ended, this);
        var prefix = _begun ? [] : new[] { ReadCommitted, Begin };
        _begun = true;
        using var batch = Batch([.. prefix, .. statements]);
        using var reader = batch.ExecuteReader();
        return read(reader);
    }

    /// <summary>
    /// Sends the last statements and COMMIT in one round trip and returns the first column of every row they selected.
    /// Without earlier statements, one statement needs no transaction of its own: it commits by itself.
    /// </summary>
    public List<object> Commit(IReadOnlyList<Statement> statements)
    {
        ObjectDisposedException.ThrowIf(_ended, this);
        var values = new List<object>();
        if (statements.Count == 0 && !_begun)
        {
            _ended = true;
            return values;
        }

        IEnumerable<Statement> sent = _begun || statements.Count > 1
            ? [.. _begun ? [] : new[] { ReadCommitted, Begin }, .. statements, End]
            : [ReadCommitted, statements[0]];
        _begun = true;
        using (var batch = Batch(sent))
        using (var reader = batch.ExecuteReader())
        {
            do
            {
                while (reader.Read())
                {
                    values.Add(reader.GetValue(0));
                }
            }
            while (reader.NextResult());
        }

        _ended = true;
        return values;
    }

    /// <summary>Commits one last statement and returns how many rows it changed.</summary>
    public int CommitCounting(Statement statement)
    {
        ObjectDisposedException.ThrowIf(_ended, this);
        // The driver reports the batch's total only; SET TRANSACTION and COMMIT change no rows, so it is the statement's.
        var sent = _begun ? new[] { statement, End } : [ReadCommitted, statement];
        _begun = true;
        using var batch = Batch(sent);
        var changed = batch.ExecuteNonQuery();
        _ended = true;
        return changed;
    }

    public void Dispose()
    {
        if (!_begun || _ended)
        {
            return;
        }

        try
        {
            using var rollback = new MySqlCommand("ROLLBACK", connection);
            rollback.ExecuteNonQuery();
        }
        catch (Exception ex) when (ex is MySqlException or InvalidOperationException or IOException)
        {
            Db.Scrub(connection);
        }
    }

    private MySqlBatch Batch(IEnumerable<Statement> statements)
    {
        var batch = new MySqlBatch(connection);
        foreach (var statement in statements)
        {
            batch.BatchCommands.Add(statement.ToBatchCommand());
        }

        return batch;
    }
}
