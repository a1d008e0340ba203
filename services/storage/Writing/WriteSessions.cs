using System.Data;
using Finstage.Storage.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Finstage.Storage.Writing;

/// <summary>
/// The write path's units of work over pooled <see cref="NewsDbContext"/>s, the counterpart of the Python
/// service's <c>session_scope()</c>: a unit commits on success, rolls back on any exception and always returns
/// its context (and connection) to the pool. Transient MySQL failures re-run the whole unit through the
/// execution strategy, so work must be repeatable. A pooled connection the server has closed (a restart, a
/// network cut) fails its first command; that clears the pool and the unit runs once more on a new connection
/// (<see cref="LostConnections"/>).
/// </summary>
public sealed class WriteSessions(IDbContextFactory<NewsDbContext> contexts, IOptions<StorageConnection> connection)
{
    private readonly string _connectionString = connection.Value.ConnectionString!;

    /// <summary>
    /// One transaction for the statements <paramref name="work"/> sends through the context's connection
    /// (<see cref="NewsWriter"/> writes by multi-row SQL only): committed together, or not at all. Nothing tracked
    /// by the context is saved, so change detection is off.
    /// </summary>
    public Task<T> WriteAsync<T>(Func<NewsDbContext, CancellationToken, Task<T>> work, CancellationToken cancellationToken) =>
        LostConnections.RunOnNewConnectionIfLostAsync(_connectionString, () => WriteOnceAsync(work, cancellationToken));

    private async Task<T> WriteOnceAsync<T>(Func<NewsDbContext, CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        db.ChangeTracker.AutoDetectChangesEnabled = false;
        var strategy = db.Database.CreateExecutionStrategy();
        return await strategy.ExecuteAsync(
            (db, work),
            static async (_, state, ct) =>
            {
                var (db, work) = state;
                // READ COMMITTED: upserts take no gap locks, so concurrent batches rarely deadlock.
                await using var transaction = await db.Database.BeginTransactionAsync(IsolationLevel.ReadCommitted, ct);
                try
                {
                    var result = await work(db, ct);
                    await transaction.CommitAsync(ct);
                    return result;
                }
                catch
                {
                    await RollBackQuietlyAsync(transaction);
                    throw;
                }
            },
            verifySucceeded: null,
            cancellationToken);
    }

    // When the connection itself is gone the server has already rolled back; the failure
    // that got us here is the one worth reporting, not the failed rollback.
    private static async Task RollBackQuietlyAsync(Microsoft.EntityFrameworkCore.Storage.IDbContextTransaction transaction)
    {
        try
        {
            await transaction.RollbackAsync(CancellationToken.None);
        }
        catch (Exception exception) when (exception is System.Data.Common.DbException or InvalidOperationException)
        {
        }
    }
}
