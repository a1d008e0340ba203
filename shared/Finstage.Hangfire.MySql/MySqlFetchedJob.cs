using Hangfire.Storage;

namespace Finstage.Hangfire.MySql;

/// <summary>
/// A job taken from a queue. It holds no connection: a timer slides its invisibility while the job runs,
/// each touch on a short pooled connection, and every change is guarded by the fetch token.
/// </summary>
public sealed class MySqlFetchedJob : IFetchedJob
{
    private readonly Db _db;
    private readonly QueueSignal _signal;
    private readonly Lock _sync = new();
    private readonly Timer _heartbeat;
    private bool _completed;
    private bool _removed;
    private bool _disposed;

    internal MySqlFetchedJob(MySqlStorage storage, long queueId, string jobId, string queue, string token)
    {
        _db = storage.Db;
        _signal = storage.Signal;
        var invisibilityTimeout = storage.Options.InvisibilityTimeout;
        QueueId = queueId;
        JobId = jobId;
        Queue = queue;
        FetchToken = token;
        // Five touches per timeout: a single slow round trip can never let the job become visible.
        var period = TimeSpan.FromTicks(Math.Max(invisibilityTimeout.Ticks / 5, TimeSpan.FromMilliseconds(100).Ticks));
        _heartbeat = new Timer(_ => Touch(), null, period, period);
    }

    /// <summary>The identifier of the background job.</summary>
    public string JobId { get; }

    /// <summary>The queue the job was taken from.</summary>
    public string Queue { get; }

    internal long QueueId { get; }

    internal string FetchToken { get; }

    /// <summary>How many heartbeats refreshed the invisibility; the tests read it.</summary>
    internal int Heartbeats { get; private set; }

    /// <summary>
    /// Deletes the queue entry, if this fetch still owns it. Hangfire's worker calls this even after the final state
    /// change removed the entry in its own transaction; then there is nothing left to do.
    /// </summary>
    public void RemoveFromQueue()
    {
        lock (_sync)
        {
            if (_removed)
            {
                return;
            }

            _db.Write(new Statement($"DELETE FROM {_db.Tables.JobQueue} WHERE `id` = @id AND `fetch_token` = @token",
                ("@id", QueueId), ("@token", FetchToken)));
            _removed = true;
            Complete();
        }
    }

    /// <summary>Makes the job visible to workers again, if this fetch still owns it, and wakes a local worker for it.</summary>
    public void Requeue()
    {
        lock (_sync)
        {
            var released = _db.Write(new Statement(
                $"UPDATE {_db.Tables.JobQueue} SET `fetched_at` = NULL, `fetch_token` = NULL WHERE `id` = @id AND `fetch_token` = @token",
                ("@id", QueueId), ("@token", FetchToken)));
            Complete();
            if (released == 1)
            {
                _signal.Notify(Queue);
            }
        }
    }

    /// <summary>Stops the heartbeat; a job neither removed nor requeued goes back to its queue at once.</summary>
    public void Dispose()
    {
        lock (_sync)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
        }

        _heartbeat.Dispose();
        if (!_completed)
        {
            Requeue();
        }
    }

    /// <summary>Marks the entry removed by a committed write transaction, so neither RemoveFromQueue nor Dispose touch it again.</summary>
    internal void MarkRemoved()
    {
        lock (_sync)
        {
            _removed = true;
            Complete();
        }
    }

    /// <summary>Stops the heartbeat without touching the row, as a crashed worker would; for tests.</summary>
    internal void SimulateCrash()
    {
        lock (_sync)
        {
            _completed = true;
            _disposed = true;
        }

        _heartbeat.Dispose();
    }

    private void Complete()
    {
        _completed = true;
        _heartbeat.Change(Timeout.Infinite, Timeout.Infinite);
    }

    private void Touch()
    {
        lock (_sync)
        {
            if (_completed || _disposed)
            {
                return;
            }

            try
            {
                _db.Write(new Statement(
                    $"UPDATE {_db.Tables.JobQueue} SET `fetched_at` = UTC_TIMESTAMP(6) WHERE `id` = @id AND `fetch_token` = @token",
                    ("@id", QueueId), ("@token", FetchToken)));
                Heartbeats++;
            }
#pragma warning disable CA1031 // A timer callback that throws ends the process; any failure here only costs one touch.
            catch (Exception)
#pragma warning restore CA1031
            {
                // A missed touch is made up by the next one; the timeout allows for four misses in a row.
            }
        }
    }
}
