using System.Net.Sockets;
using MySqlConnector;

namespace Finstage.Storage.Infrastructure;

/// <summary>
/// Tells a failure that means "the database is not there right now" (it refuses connections, cut
/// one mid-statement or is shutting down) from one that retrying will not mend (a bad statement,
/// a value the schema refuses).
/// </summary>
public static class DatabaseOutage
{
    // MariaDB's ER_CONNECTION_KILLED, sent to every session when the server shuts down; MySqlErrorCode has no name for it.
    private const int ConnectionKilled = 1927;

    /// <summary>Whether <paramref name="exception"/>, or any exception inside it, is the database being away.</summary>
    public static bool Explains(Exception exception)
    {
        // EF Core wraps the last failure once its own retries are spent (RetryLimitExceededException), so look inside.
        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (current is MySqlException mysql && IsOutage(mysql))
            {
                return true;
            }
        }
        return false;
    }

    private static bool IsOutage(MySqlException exception) =>
        // Refused or timed-out connects, too many connections, deadlocks and lock waits: MySqlConnector's own list.
        exception.IsTransient
        || exception.ErrorCode is MySqlErrorCode.ServerShutdown or MySqlErrorCode.CommandTimeoutExpired
        || exception.Number == ConnectionKilled
        // A connection cut mid-statement ("Failed to read the result set"), which MySqlConnector does not count as transient.
        || exception.InnerException is IOException or SocketException;
}
