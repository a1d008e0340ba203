using System.Globalization;
using Hangfire.Common;
using Hangfire.States;
using Hangfire.Storage;
using Hangfire.Storage.Monitoring;
using MySqlConnector;

namespace Finstage.Hangfire.MySql;

/// <summary>
/// What the dashboard reads. Plain SQL with quoted identifiers and no user variables; lists page on the
/// (state_name, id) and (queue, fetched_at, id) indexes and fetch job rows only for the page shown.
/// </summary>
public sealed class MySqlMonitoringApi : JobStorageMonitor
{
    private readonly Db _db;
    private readonly int _queueJobsShown;

    internal MySqlMonitoringApi(Db db, int queueJobsShown)
    {
        _db = db;
        _queueJobsShown = queueJobsShown;
    }

    private Tables T => _db.Tables;

    /// <inheritdoc />
    public override IList<QueueWithTopEnqueuedJobsDto> Queues()
    {
        var queues = _db.Use(c => c.Query(
            $"SELECT `queue`, SUM(`fetched_at` IS NULL), SUM(`fetched_at` IS NOT NULL) FROM {T.JobQueue} GROUP BY `queue` ORDER BY `queue`",
            r => (Name: r.GetString(0), Enqueued: Convert.ToInt64(r.GetValue(1), CultureInfo.InvariantCulture), Fetched: Convert.ToInt64(r.GetValue(2), CultureInfo.InvariantCulture))));
        return queues.Select(q => new QueueWithTopEnqueuedJobsDto
        {
            Name = q.Name,
            Length = q.Enqueued,
            Fetched = q.Fetched,
            FirstJobs = EnqueuedJobs(q.Name, 0, _queueJobsShown),
        }).ToList();
    }

    /// <inheritdoc />
    public override IList<ServerDto> Servers() => _db.Use(c => c.Query(
        $"SELECT `id`, `data`, `last_heartbeat` FROM {T.Server} ORDER BY `id`",
        r =>
        {
            var data = SerializationHelper.Deserialize<ServerData>(r.NullableString(1) ?? "{}") ?? new ServerData();
            return new ServerDto
            {
                Name = r.GetString(0),
                WorkersCount = data.WorkerCount,
                Queues = data.Queues ?? [],
                StartedAt = data.StartedAt ?? default,
                Heartbeat = r.Utc(2),
            };
        }));

    /// <inheritdoc />
    public override JobDetailsDto? JobDetails(string jobId)
    {
        ArgumentNullException.ThrowIfNull(jobId);
        if (!MySqlStorageConnection.TryParseId(jobId, out var id))
        {
            return null;
        }

        return _db.Use(c =>
        {
            var job = c.Query(
                $"SELECT `invocation_data`, `arguments`, `created_at`, `expire_at` FROM {T.Job} WHERE `id` = @id",
                r => (Data: r.GetString(0), Args: r.NullableString(1), Created: r.Utc(2), Expire: r.NullableUtc(3)), null, ("@id", id));
            if (job.Count == 0)
            {
                return null;
            }

            var properties = c.Query($"SELECT `name`, `value` FROM {T.JobParameter} WHERE `job_id` = @id",
                r => (Name: r.GetString(0), Value: r.NullableString(1)), null, ("@id", id))
                .ToDictionary(p => p.Name, p => p.Value, StringComparer.Ordinal);
            var history = c.Query(
                $"SELECT `name`, `reason`, `created_at`, `data` FROM {T.State} WHERE `job_id` = @id ORDER BY `id` DESC",
                r => new StateHistoryDto { StateName = r.GetString(0), Reason = r.NullableString(1), CreatedAt = r.Utc(2), Data = JobPayload.StateData(r.NullableString(3)) },
                null, ("@id", id));
            var (loaded, invocationData, error) = JobPayload.Load(job[0].Data, job[0].Args);
            return new JobDetailsDto
            {
                Job = loaded,
                InvocationData = invocationData,
                LoadException = error,
                CreatedAt = job[0].Created,
                ExpireAt = job[0].Expire,
                Properties = properties,
                History = history,
            };
        });
    }

    /// <inheritdoc />
    public override StatisticsDto GetStatistics() => _db.Use(c =>
    {
        // COUNT per state walks the (state_name, id) index only; succeeded and deleted, the states that grow
        // without bound, come from Hangfire's maintained counters instead of the job table.
        var byState = c.Query(
            $"SELECT `state_name`, COUNT(*) FROM {T.Job} WHERE `state_name` IN (@enqueued, @failed, @processing, @scheduled, @awaiting) GROUP BY `state_name`",
            r => (Name: r.GetString(0), Count: r.GetInt64(1)), null,
            ("@enqueued", EnqueuedState.StateName), ("@failed", FailedState.StateName), ("@processing", ProcessingState.StateName),
            ("@scheduled", ScheduledState.StateName), ("@awaiting", AwaitingState.StateName))
            .ToDictionary(s => s.Name, s => s.Count, StringComparer.Ordinal);
        long Count(string state) => byState.GetValueOrDefault(state);

        return new StatisticsDto
        {
            Enqueued = Count(EnqueuedState.StateName),
            Failed = Count(FailedState.StateName),
            Processing = Count(ProcessingState.StateName),
            Scheduled = Count(ScheduledState.StateName),
            Awaiting = Count(AwaitingState.StateName),
            Servers = c.Scalar<long>($"SELECT COUNT(*) FROM {T.Server}"),
            Queues = c.Scalar<long>($"SELECT COUNT(DISTINCT `queue`) FROM {T.JobQueue}"),
            Succeeded = Counters.Get(c, T, "stats:succeeded"),
            Deleted = Counters.Get(c, T, "stats:deleted"),
            Recurring = c.Scalar<long>($"SELECT COUNT(*) FROM {T.Set} WHERE `key` = 'recurring-jobs'"),
            Retries = c.Scalar<long>($"SELECT COUNT(*) FROM {T.Set} WHERE `key` = 'retries'"),
        };
    });

    /// <inheritdoc />
    public override JobList<EnqueuedJobDto> EnqueuedJobs(string queue, int from, int perPage)
    {
        ArgumentNullException.ThrowIfNull(queue);
        return _db.Use(c =>
        {
            var ids = c.Query(
                $"SELECT `job_id` FROM {T.JobQueue} WHERE `queue` = @queue AND `fetched_at` IS NULL ORDER BY `id` LIMIT @count OFFSET @from",
                r => (JobId: r.GetInt64(0), FetchedAt: (DateTime?)null), null, ("@queue", queue), ("@count", perPage), ("@from", from));
            return List(c, ids, (row, _) => new EnqueuedJobDto
            {
                Job = row.Job,
                InvocationData = row.InvocationData,
                LoadException = row.LoadException,
                State = row.StateName,
                StateData = row.StateData,
                InEnqueuedState = EnqueuedState.StateName.Equals(row.StateName, StringComparison.OrdinalIgnoreCase),
                EnqueuedAt = EnqueuedState.StateName.Equals(row.StateName, StringComparison.OrdinalIgnoreCase)
                    ? JobHelper.DeserializeNullableDateTime(row.StateData?.GetValueOrDefault("EnqueuedAt"))
                    : null,
            });
        });
    }

    /// <inheritdoc />
    public override JobList<FetchedJobDto> FetchedJobs(string queue, int from, int perPage)
    {
        ArgumentNullException.ThrowIfNull(queue);
        return _db.Use(c =>
        {
            var ids = c.Query(
                $"SELECT `job_id`, `fetched_at` FROM {T.JobQueue} WHERE `queue` = @queue AND `fetched_at` IS NOT NULL ORDER BY `id` LIMIT @count OFFSET @from",
                r => (JobId: r.GetInt64(0), FetchedAt: r.NullableUtc(1)), null, ("@queue", queue), ("@count", perPage), ("@from", from));
            return List(c, ids, (row, fetchedAt) => new FetchedJobDto
            {
                Job = row.Job,
                InvocationData = row.InvocationData,
                LoadException = row.LoadException,
                State = row.StateName,
                FetchedAt = fetchedAt,
            });
        });
    }

    /// <inheritdoc />
    public override JobList<ProcessingJobDto> ProcessingJobs(int from, int count) =>
        ByState(ProcessingState.StateName, from, count, row => new ProcessingJobDto
        {
            Job = row.Job,
            InvocationData = row.InvocationData,
            LoadException = row.LoadException,
            InProcessingState = true,
            ServerId = row.StateData?.GetValueOrDefault("ServerId") ?? row.StateData?.GetValueOrDefault("ServerName"),
            StartedAt = JobHelper.DeserializeNullableDateTime(row.StateData?.GetValueOrDefault("StartedAt")),
            StateData = row.StateData,
        });

    /// <inheritdoc />
    public override JobList<ScheduledJobDto> ScheduledJobs(int from, int count) =>
        ByState(ScheduledState.StateName, from, count, row => new ScheduledJobDto
        {
            Job = row.Job,
            InvocationData = row.InvocationData,
            LoadException = row.LoadException,
            InScheduledState = true,
            EnqueueAt = JobHelper.DeserializeNullableDateTime(row.StateData?.GetValueOrDefault("EnqueueAt")) ?? default,
            ScheduledAt = JobHelper.DeserializeNullableDateTime(row.StateData?.GetValueOrDefault("ScheduledAt")),
            StateData = row.StateData,
        });

    /// <inheritdoc />
    public override JobList<SucceededJobDto> SucceededJobs(int from, int count) =>
        ByState(SucceededState.StateName, from, count, row => new SucceededJobDto
        {
            Job = row.Job,
            InvocationData = row.InvocationData,
            LoadException = row.LoadException,
            InSucceededState = true,
            Result = row.StateData?.GetValueOrDefault("Result"),
            TotalDuration = long.TryParse(row.StateData?.GetValueOrDefault("PerformanceDuration"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var duration)
                && long.TryParse(row.StateData?.GetValueOrDefault("Latency"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var latency)
                ? duration + latency
                : null,
            SucceededAt = JobHelper.DeserializeNullableDateTime(row.StateData?.GetValueOrDefault("SucceededAt")),
            StateData = row.StateData,
        });

    /// <inheritdoc />
    public override JobList<FailedJobDto> FailedJobs(int from, int count) =>
        ByState(FailedState.StateName, from, count, row => new FailedJobDto
        {
            Job = row.Job,
            InvocationData = row.InvocationData,
            LoadException = row.LoadException,
            InFailedState = true,
            Reason = row.StateReason,
            ExceptionDetails = row.StateData?.GetValueOrDefault("ExceptionDetails"),
            ExceptionMessage = row.StateData?.GetValueOrDefault("ExceptionMessage"),
            ExceptionType = row.StateData?.GetValueOrDefault("ExceptionType"),
            FailedAt = JobHelper.DeserializeNullableDateTime(row.StateData?.GetValueOrDefault("FailedAt")),
            StateData = row.StateData,
        });

    /// <inheritdoc />
    public override JobList<DeletedJobDto> DeletedJobs(int from, int count) =>
        ByState(DeletedState.StateName, from, count, row => new DeletedJobDto
        {
            Job = row.Job,
            InvocationData = row.InvocationData,
            LoadException = row.LoadException,
            InDeletedState = true,
            DeletedAt = JobHelper.DeserializeNullableDateTime(row.StateData?.GetValueOrDefault("DeletedAt")),
            StateData = row.StateData,
        });

    /// <inheritdoc />
    public override JobList<AwaitingJobDto> AwaitingJobs(int from, int count) =>
        ByState(AwaitingState.StateName, from, count, row => new AwaitingJobDto
        {
            Job = row.Job,
            InvocationData = row.InvocationData,
            LoadException = row.LoadException,
            InAwaitingState = true,
            AwaitingAt = row.StateCreatedAt,
            StateData = row.StateData,
        });

    /// <inheritdoc />
    public override long ScheduledCount() => CountInState(ScheduledState.StateName);

    /// <inheritdoc />
    public override long EnqueuedCount(string queue) => QueueCount(queue, fetched: false);

    /// <inheritdoc />
    public override long FetchedCount(string queue) => QueueCount(queue, fetched: true);

    /// <inheritdoc />
    public override long FailedCount() => CountInState(FailedState.StateName);

    /// <inheritdoc />
    public override long ProcessingCount() => CountInState(ProcessingState.StateName);

    /// <inheritdoc />
    public override long SucceededListCount() => CountInState(SucceededState.StateName);

    /// <inheritdoc />
    public override long DeletedListCount() => CountInState(DeletedState.StateName);

    /// <inheritdoc />
    public override long AwaitingCount() => CountInState(AwaitingState.StateName);

    /// <inheritdoc />
    public override IDictionary<DateTime, long> SucceededByDatesCount() => ByDates("succeeded");

    /// <inheritdoc />
    public override IDictionary<DateTime, long> FailedByDatesCount() => ByDates("failed");

    /// <inheritdoc />
    public override IDictionary<DateTime, long> DeletedByDatesCount() => ByDates("deleted");

    /// <inheritdoc />
    public override IDictionary<DateTime, long> HourlySucceededJobs() => ByHours("succeeded");

    /// <inheritdoc />
    public override IDictionary<DateTime, long> HourlyFailedJobs() => ByHours("failed");

    /// <inheritdoc />
    public override IDictionary<DateTime, long> HourlyDeletedJobs() => ByHours("deleted");

    private Dictionary<DateTime, long> ByDates(string type)
    {
        var today = DateTime.UtcNow.Date;
        var dates = Enumerable.Range(0, 7).Select(i => today.AddDays(-i)).ToList();
        return CountersFor(dates, d => $"stats:{type}:{d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}");
    }

    private Dictionary<DateTime, long> ByHours(string type)
    {
        var now = DateTime.UtcNow;
        var hour = new DateTime(now.Year, now.Month, now.Day, now.Hour, 0, 0, DateTimeKind.Utc);
        var hours = Enumerable.Range(0, 24).Select(i => hour.AddHours(-i)).ToList();
        return CountersFor(hours, d => $"stats:{type}:{d.ToString("yyyy-MM-dd-HH", CultureInfo.InvariantCulture)}");
    }

    private Dictionary<DateTime, long> CountersFor(List<DateTime> points, Func<DateTime, string> keyOf)
    {
        var keys = points.Select(keyOf).ToList();
        var (inSql, parameters) = SqlExtensions.InList("k", keys);
        var values = _db.Use(c => c.Query(
            $"SELECT `key`, SUM(`value`) FROM (SELECT `key`, `value` FROM {T.Counter} WHERE `key` IN ({inSql}) UNION ALL SELECT `key`, `value` FROM {T.AggregatedCounter} WHERE `key` IN ({inSql})) AS x GROUP BY `key`",
            r => (Key: r.GetString(0), Value: Convert.ToInt64(r.GetValue(1), CultureInfo.InvariantCulture)), null, parameters))
            .ToDictionary(v => v.Key, v => v.Value, StringComparer.Ordinal);
        return points.ToDictionary(p => p, p => values.GetValueOrDefault(keyOf(p)));
    }

    private long CountInState(string state) => _db.Use(c => c.Scalar<long>(
        $"SELECT COUNT(*) FROM {T.Job} WHERE `state_name` = @state", null, ("@state", state)));

    private long QueueCount(string queue, bool fetched)
    {
        ArgumentNullException.ThrowIfNull(queue);
        return _db.Use(c => c.Scalar<long>(
            $"SELECT COUNT(*) FROM {T.JobQueue} WHERE `queue` = @queue AND `fetched_at` IS {(fetched ? "NOT NULL" : "NULL")}", null, ("@queue", queue)));
    }

    private JobList<TDto> ByState<TDto>(string state, int from, int count, Func<JobRow, TDto> map) => _db.Use(c =>
    {
        // The page's ids come from the (state_name, id) index alone; only those rows are read in full.
        var ids = c.Query(
            $"SELECT `id` FROM {T.Job} WHERE `state_name` = @state ORDER BY `id` DESC LIMIT @count OFFSET @from",
            r => (JobId: r.GetInt64(0), FetchedAt: (DateTime?)null), null, ("@state", state), ("@count", count), ("@from", from));
        return List(c, ids, (row, _) => map(row));
    });

    private JobList<TDto> List<TDto>(MySqlConnection c, List<(long JobId, DateTime? FetchedAt)> page, Func<JobRow, DateTime?, TDto> map)
    {
        if (page.Count == 0)
        {
            return new JobList<TDto>([]);
        }

        var (inSql, parameters) = SqlExtensions.InList("j", page.Select(p => p.JobId.ToString(CultureInfo.InvariantCulture)).ToList());
        var rows = c.Query(
            $"""
            SELECT j.`id`, j.`invocation_data`, j.`arguments`, j.`state_name`, s.`reason`, s.`data`, s.`created_at`
            FROM {T.Job} j LEFT JOIN {T.State} s ON s.`id` = j.`state_id`
            WHERE j.`id` IN ({inSql})
            """,
            r =>
            {
                var (job, data, error) = JobPayload.Load(r.GetString(1), r.NullableString(2));
                return new JobRow(r.GetInt64(0), job, data, error, r.NullableString(3), r.NullableString(4),
                    r.IsDBNull(5) ? null : JobPayload.StateData(r.GetString(5)), r.NullableUtc(6));
            },
            null, parameters).ToDictionary(r => r.Id);

        var result = new List<KeyValuePair<string, TDto>>();
        foreach (var (jobId, fetchedAt) in page)
        {
            if (rows.TryGetValue(jobId, out var row))
            {
                result.Add(new KeyValuePair<string, TDto>(jobId.ToString(CultureInfo.InvariantCulture), map(row, fetchedAt)));
            }
        }

        return new JobList<TDto>(result);
    }

    private sealed record JobRow(
        long Id,
        Job? Job,
        InvocationData InvocationData,
        JobLoadException? LoadException,
        string? StateName,
        string? StateReason,
        Dictionary<string, string>? StateData,
        DateTime? StateCreatedAt);
}
