using System.Net;
using System.Net.Sockets;
using Finstage.Storage.Infrastructure;
using Microsoft.EntityFrameworkCore.Storage;
using MySqlConnector;

namespace Finstage.Storage.Tests;

/// <summary>
/// Which real MariaDB failures the storage waits out as an outage (patient retries, no error queue)
/// and which it treats as a fault of the message (quick retries, then the error queue).
/// </summary>
public sealed class DatabaseOutageTests(StorageFixture storage)
{
    [Fact(Timeout = 30_000)]
    public async Task Explains_IsTrue_WhenNothingListensOnTheDatabasePort()
    {
        var refused = await FailureOfAsync(async ct =>
        {
            await using var connection = new MySqlConnection(new MySqlConnectionStringBuilder(storage.ConnectionString)
            {
                Port = (uint)UnusedPort(),
                ConnectionTimeout = 5,
                Pooling = false,
            }.ConnectionString);
            await connection.OpenAsync(ct);
        });

        DatabaseOutage.Explains(refused).ShouldBeTrue(refused.ToString());
        // As EF Core hands it on once its own retries are spent.
        DatabaseOutage.Explains(new RetryLimitExceededException("retries spent", refused)).ShouldBeTrue();
    }

    [Fact(Timeout = 30_000)]
    public async Task Explains_IsTrue_WhenTheServerEndsTheConnectionMidSession()
    {
        var ended = await FailureOfAsync(async ct =>
        {
            await using var victim = new MySqlConnection(new MySqlConnectionStringBuilder(storage.ConnectionString) { Pooling = false }.ConnectionString);
            await victim.OpenAsync(ct);
            await using (var admin = new MySqlConnection(storage.ConnectionString))
            {
                await admin.OpenAsync(ct);
                // What a server that shuts down does to every session it still has.
                await using var kill = new MySqlCommand($"KILL CONNECTION {victim.ServerThread}", admin);
                await kill.ExecuteNonQueryAsync(ct);
            }
            await using var query = new MySqlCommand("SELECT COUNT(*) FROM `articles`", victim);
            await query.ExecuteScalarAsync(ct);
        });

        DatabaseOutage.Explains(ended).ShouldBeTrue(ended.ToString());
    }

    [Fact(Timeout = 30_000)]
    public async Task Explains_IsFalse_WhenTheStatementItselfIsWrong()
    {
        var wrong = await FailureOfAsync(async ct =>
        {
            await using var connection = new MySqlConnection(storage.ConnectionString);
            await connection.OpenAsync(ct);
            await using var query = new MySqlCommand("SELECT `no_such_column` FROM `articles`", connection);
            await query.ExecuteScalarAsync(ct);
        });

        DatabaseOutage.Explains(wrong).ShouldBeFalse(wrong.ToString());
        DatabaseOutage.Explains(new InvalidOperationException("not the database")).ShouldBeFalse();
    }

    private static async Task<Exception> FailureOfAsync(Func<CancellationToken, Task> action)
    {
        try
        {
            await action(TestContext.Current.CancellationToken);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            return exception;
        }
        throw new ShouldAssertException("The database did not fail as the test meant it to.");
    }

    private static int UnusedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
