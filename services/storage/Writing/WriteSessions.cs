using System.Data;
using System.Net.Sockets;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace Finstage.Storage.Infrastructure;

/// <summary>
/// Session scopes over pooled <see cref="NewsDbContext"/>s, the counterpart of the Python
/// service's <c>session_scope()</c>: a unit of work commits on success, rolls back on any
/// exception and always returns its context (and connection) to the pool. Transient MySQL
/// failures re-run the whole unit through the execution strategy, so work must be repeatable.
/// A pooled connection the server has closed (a restart, a network cut) fails its first command;
/// that clears the pool and the scope runs once more on a new connection.
/// </summary>
public sealed class NewsSessions(IDbContextFactory<NewsDbContext> contexts, IOptions<StorageConnection> connection)
{
    private readonly string _connectionString = connection.Value.ConnectionString!;
    private readonly string _readConnectionString = connection.Value.ReadConnectionString!;

    /// <summary>A read-only scope on the ingest pool: no tracking, no transaction. The read API uses <see cref="QueryAsync"/>.</summary>
    public Task<T> ReadAsync<T>(Func<NewsDbContext, CancellationToken, Task<T>> query, CancellationToken cancellationToken) =>
        OnNewConnectionIfLostAsync(_connectionString, async () =>
        {
            await using var db = await contexts.CreateDbContextAsync(cancellationToken);
            db.ChangeTracker.QueryTrackingBehavior = QueryTrackingBehavior.NoTracking;
            return await query(db, cancellationToken);
        });

    /// <summary>
    /// A read on a plain connection from the read API's own pool (<see cref="ReadOptions"/>), without a
    /// <see cref="NewsDbContext"/>: for the read API's hand-written queries, which need nothing of EF Core (renting a
    /// context and opening through it was most of the service's own cost of a page when the read API was profiled;
    /// docs/performance.md, p6). Ingest never waits for this pool, nor readers for ingest's. A read that finds the
    /// pool busy past its checkout timeout, runs past its command timeout, or finds the database away throws
    /// <see cref="ReadsUnavailableException"/>.
    /// </summary>
    public async Task<T> QueryAsync<T>(Func<MySqlConnection, CancellationToken, Task<T>> query, CancellationToken cancellationToken)
    {
        try
        {
            return await OnNewConnectionIfLostAsync(_readConnectionString, async () =>
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

    /// <summary>A unit of work: tracked changes are saved and committed together, or not at all.</summary>
    public Task<T> WriteAsync<T>(Func<NewsDbContext, CancellationToken, Task<T>> work, CancellationToken cancellationToken) =>
        RunInTransactionAsync(work, detectChanges: true, cancellationToken);

    /// <summary>
    /// A batch unit of work: one transaction for many messages, written mostly by raw SQL, so
    /// automatic change detection is off.
    /// </summary>
    public Task<T> BatchAsync<T>(Func<NewsDbContext, CancellationToken, Task<T>> work, CancellationToken cancellationToken) =>
        RunInTransactionAsync(work, detectChanges: false, cancellationToken);

    private Task<T> RunInTransactionAsync<T>(
        Func<NewsDbContext, CancellationToken, Task<T>> work, bool detectChanges, CancellationToken cancellationToken) =>
        OnNewConnectionIfLostAsync(_connectionString, () => RunInTransactionOnceAsync(work, detectChanges, cancellationToken));

    private async Task<T> RunInTransactionOnceAsync<T>(
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

    // The pool does not check a connection it hands out (Database:ValidateOnCheckout is off: that check
    // is a round trip per checkout), so a connection the server closed fails its first command. When one
    // has, the others in the pool are from before the same restart or network cut: clear them all, and
    // run the scope once more on a new connection. Scopes are repeatable (reads, and units of work that
    // roll back or were never committed), as the execution strategy already requires.
    private static async Task<T> OnNewConnectionIfLostAsync<T>(string pool, Func<Task<T>> scope)
    {
        try
        {
            return await scope();
        }
        catch (Exception error) when (IsConnectionLost(error))
        {
            await using (var pooled = new MySqlConnection(pool))
            {
                await MySqlConnection.ClearPoolAsync(pooled, CancellationToken.None);
            }
            return await scope();
        }
    }

    /// <summary>
    /// The connection broke under a command (end of stream, reset), as opposed to an SQL error or a
    /// refused connect. MySqlConnector throws the I/O failure bare or inside a <see cref="MySqlException"/>.
    /// </summary>
    internal static bool IsConnectionLost(Exception error) => error switch
    {
        MySqlException { ErrorCode: MySqlErrorCode.UnableToConnectToHost } => false,
        IOException or SocketException => true,
        _ => error.InnerException is { } inner && IsConnectionLost(inner),
    };

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

/// <summary>
/// The read API cannot answer now: its pool stayed busy past the checkout timeout, the statement ran past its
/// command timeout, or the database is away. The API answers 503 with Retry-After; ingest is not affected.
/// </summary>
public sealed class ReadsUnavailableException(Exception inner)
    : Exception("The news database cannot take this read now: " + inner.Message, inner);
