using Finstage.Storage.Infrastructure;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace Finstage.Storage.Reading;

/// <summary>
/// The read API's connections: plain ones from the read API's own pool (<see cref="ReadOptions"/>), without a
/// <see cref="NewsDbContext"/>, for its hand-written queries, which need nothing of EF Core (renting a context and
/// opening through it was most of the service's own cost of a page when the read API was profiled;
/// docs/performance.md, p6). Ingest never waits for this pool, nor readers for ingest's.
/// </summary>
public sealed class ReadSessions(IOptions<StorageConnection> connection)
{
    private readonly string _readConnectionString = connection.Value.ReadConnectionString!;

    /// <summary>
    /// Runs <paramref name="query"/> on an open connection of the read pool. A read that finds the pool busy past its
    /// checkout timeout, runs past its command timeout, or finds the database away throws
    /// <see cref="ReadsUnavailableException"/>.
    /// </summary>
    public async Task<T> QueryAsync<T>(Func<MySqlConnection, CancellationToken, Task<T>> query, CancellationToken cancellationToken)
    {
        try
        {
            return await LostConnections.RunOnNewConnectionIfLostAsync(_readConnectionString, async () =>
            {
                await using var connection = new MySqlConnection(_readConnectionString);
                await connection.OpenAsync(cancellationToken);
                return await query(connection, cancellationToken);
            });
        }
        catch (Exception error) when (!cancellationToken.IsCancellationRequested && DatabaseOutage.Explains(error))
        {
            throw new ReadsUnavailableException(error);
        }
    }
}
