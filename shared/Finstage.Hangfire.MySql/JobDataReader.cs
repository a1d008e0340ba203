using Hangfire.Storage;
using MySqlConnector;

namespace Finstage.Hangfire.MySql;

/// <summary>Reads a job and its parameters in one round trip, as two result sets.</summary>
internal static class JobDataReader
{
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
