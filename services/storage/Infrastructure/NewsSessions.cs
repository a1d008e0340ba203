using System.Data;
using Microsoft.EntityFrameworkCore;

namespace Finstage.Storage.Infrastructure;

/// <summary>
/// Session scopes over pooled <see cref="NewsDbContext"/>s, the counterpart of the Python
/// service's <c>session_scope()</c>: a unit of work commits on success, rolls back on any
/// exception and always returns its context (and connection) to the pool. Transient MySQL
/// failures re-run the whole unit through the execution strategy, so work must be repeatable.
/// </summary>
public sealed class NewsSessions(IDbContextFactory<NewsDbContext> contexts)
{
    /// <summary>A read-only scope: no tracking, no transaction.</summary>
    public async Task<T> ReadAsync<T>(Func<NewsDbContext, CancellationToken, Task<T>> query, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        db.ChangeTracker.QueryTrackingBehavior = QueryTrackingBehavior.NoTracking;
        return await query(db, cancellationToken);
    }

    /// <summary>A unit of work: tracked changes are saved and committed together, or not at all.</summary>
    public Task<T> WriteAsync<T>(Func<NewsDbContext, CancellationToken, Task<T>> work, CancellationToken cancellationToken) =>
        RunInTransactionAsync(work, detectChanges: true, cancellationToken);

    /// <summary>
    /// A batch unit of work: one transaction for many messages, written mostly by raw SQL, so
    /// automatic change detection is off.
    /// </summary>
    public Task<T> BatchAsync<T>(Func<NewsDbContext, CancellationToken, Task<T>> work, CancellationToken cancellationToken) =>
        RunInTransactionAsync(work, detectChanges: false, cancellationToken);

    private async Task<T> RunInTransactionAsync<T>(
        Func<NewsDbContext, CancellationToken, Task<T>> work, bool detectChanges, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        db.ChangeTracker.AutoDetectChangesEnabled = detectChanges;
        var strategy = db.Database.CreateExecutionStrategy();
        return await strategy.ExecuteAsync(
            (db, work, detectChanges),
            static async (_, state, ct) =>
            {
                var (db, work, detectChanges) = state;
                // A retry starts from a clean slate: nothing of the failed attempt may leak in.
                db.ChangeTracker.Clear();
                // READ COMMITTED: upserts take no gap locks, so concurrent batches rarely deadlock.
                await using var transaction = await db.Database.BeginTransactionAsync(IsolationLevel.ReadCommitted, ct);
                try
                {
                    var result = await work(db, ct);
                    if (!detectChanges)
                    {
                        db.ChangeTracker.DetectChanges();
                    }
                    await db.SaveChangesAsync(ct);
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
