using Hangfire.Storage;
using MySqlConnector;

namespace Finstage.Hangfire.MySql;

/// <summary>Reads a job and its parameters in one round trip, as two result sets.</summary>
internal static class JobDataReader
{
    /// <summary>
    /// The two statements of <see cref="Sql"/> for one job, the job row locked as it is read (<see cref="JobRowLock"/>),
    /// waiting at most <paramref name="waitSeconds"/> for another holder (MariaDB's WAIT n; NOWAIT for 0).
    /// </summary>
    public static Statement[] LockingStatements(Tables t, long id, long waitSeconds) =>
    [
        new($"SELECT `invocation_data`, `arguments`, `state_name`, `created_at` FROM {t.Job} WHERE `id` = @id FOR UPDATE " +
            (waitSeconds > 0 ? $"WAIT {waitSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)}" : "NOWAIT"), ("@id", id)),
        new($"SELECT `name`, `value` FROM {t.JobParameter} WHERE `job_id` = @id", ("@id", id)),
    ];

    /// <summary>
    /// The two statements of <see cref="Sql"/> for the job whose id is in LAST_INSERT_ID(), its row locked as it is read
    /// unless another transaction holds it (then neither returns a row for it: the job result is empty).
    /// </summary>
    public static Statement[] SkippingStatements(Tables t) =>
    [
        new($"SELECT `invocation_data`, `arguments`, `state_name`, `created_at` FROM {t.Job} WHERE `id` = LAST_INSERT_ID() FOR UPDATE SKIP LOCKED"),
        new($"SELECT `name`, `value` FROM {t.JobParameter} WHERE `job_id` = LAST_INSERT_ID()"),
    ];

    public static string Sql(Tables t) =>
        $"SELECT `invocation_data`, `arguments`, `state_name`, `created_at` FROM {t.Job} WHERE `id` = @id; " +
        $"SELECT `name`, `value` FROM {t.JobParameter} WHERE `job_id` = @id";

    /// <summary>Reads the two result sets of <see cref="Sql"/> from the reader's current one on; null when the job is gone.</summary>
    public static JobData? Read(MySqlDataReader reader)
    {
        if (!reader.Read())
        {
            return null;
        }

        var row = (Data: reader.GetString(0), Args: reader.NullableString(1), State: reader.NullableString(2), Created: reader.Utc(3));
        reader.NextResult();
        var parameters = new Dictionary<string, string?>(StringComparer.Ordinal);
        while (reader.Read())
        {
            parameters[reader.GetString(0)] = reader.NullableString(1);
        }

        var (job, invocationData, loadException) = JobPayload.Load(row.Data, row.Args);
        return new JobData
        {
            Job = job,
            InvocationData = invocationData,
            LoadException = loadException,
            State = row.State,
            CreatedAt = row.Created,
            ParametersSnapshot = parameters,
        };
    }
}
