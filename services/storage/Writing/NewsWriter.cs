using Finstage.Contracts;
using Finstage.Storage.Events;
using Finstage.Storage.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using MySqlConnector;

namespace Finstage.Storage.Writing;

/// <summary>
/// Writes crawl results: articles, their symbol links and crawl runs, idempotently, and in the same transaction the
/// <see cref="ArticlesStored"/> events of the crawls that stored new articles (<see cref="ArticleEventOutbox"/>).
/// </summary>
/// <param name="events">Wakes the relay after a commit that wrote events; without it the relay finds them at its next poll.</param>
public sealed class NewsWriter(WriteSessions sessions, TimeProvider clock, StorageMetrics metrics, ArticleEventSignal? events = null)
{
    /// <summary>Stores a batch of crawl results in one transaction; returns the crawl runs recorded.</summary>
    public async Task<IReadOnlyList<CrawlRun>> StoreAsync(IReadOnlyList<NewsCrawled> crawls, CancellationToken cancellationToken)
    {
        var eventsWritten = 0;
        var runs = await sessions.WriteAsync(async (db, ct) =>
        {
            var now = clock.GetUtcNow().UtcDateTime;
            var plan = CrawlBatchPlan.Create(crawls, now);
            var (connection, transaction) = Raw(db);

            // Which articles are stored already, read before the upsert (a consistent read, no locks)...
            var stored = new Dictionary<string, DateTime>(StringComparer.Ordinal);
            await ReadSortTimesAsync(plan.ArticleIds, notFirstSeenAt: null, stored, connection, transaction, ct);
            foreach (var chunk in UpsertStatements.ArticleChunks(plan.Articles))
            {
                await ExecuteAsync(UpsertStatements.Articles(chunk), connection, transaction, ct);
            }
            // ...and which of the rest another batch stored meanwhile: it held the row, this batch's upsert waited for
            // its commit and then only updated it. Read after the upsert, whose locks keep the answer until the commit,
            // so of two batches (in one process or two) that carried the same new article exactly one counts and
            // announces it as new.
            var unseen = plan.ArticleIds.Where(id => !stored.ContainsKey(Convert.ToHexString(id))).ToList();
            await ReadSortTimesAsync(unseen, notFirstSeenAt: now, stored, connection, transaction, ct);

            var (links, runs) = plan.Resolve(stored, now);
            foreach (var chunk in links.Chunk(UpsertStatements.ChunkSize))
            {
                await ExecuteAsync(UpsertStatements.Links(chunk), connection, transaction, ct);
            }
            foreach (var chunk in plan.ArticleIds.Chunk(UpsertStatements.ChunkSize * 2))
            {
                await ExecuteAsync(SymbolStatsStatements.AddNewLinks(chunk, now), connection, transaction, ct);
            }
            foreach (var chunk in runs.Chunk(UpsertStatements.ChunkSize))
            {
                await ExecuteAsync(UpsertStatements.CrawlRuns(chunk), connection, transaction, ct);
            }
            // Last: it locks the outbox's sequence until the commit (ArticleEventOutbox.AddAsync).
            eventsWritten = await ArticleEventOutbox.AddAsync(plan.NewArticles, now, connection, transaction, ct);
            return runs;
        }, cancellationToken);
        if (eventsWritten > 0)
        {
            events?.Notify();
        }

        metrics.RecordBatch(crawls.Count, runs);
        return runs;
    }

    /// <summary>Records a failed crawl as a crawl run; recording the same failure again changes nothing.</summary>
    public Task RecordFailureAsync(CrawlFailed failure, CancellationToken cancellationToken)
    {
        var run = new CrawlRun
        {
            CrawlId = failure.CrawlId,
            CycleId = failure.CycleId,
            Source = failure.Source,
            Symbol = failure.Symbol,
            Status = CrawlStatus.Failed,
            HttpStatus = failure.HttpStatus,
            FailureReason = failure.Reason.ToString(),
            FailureDetail = failure.Detail,
            Attempts = failure.Attempts,
            DurationMs = failure.Duration is { } duration ? (int)Math.Min(int.MaxValue, duration.TotalMilliseconds) : null,
            FinishedAt = failure.FailedAt.UtcDateTime,
            RecordedAt = clock.GetUtcNow().UtcDateTime,
        };
        return sessions.WriteAsync(async (db, ct) =>
        {
            var (connection, transaction) = Raw(db);
            await ExecuteAsync(UpsertStatements.CrawlRuns([run]), connection, transaction, ct);
            return true;
        }, cancellationToken);
    }

    private static async Task ReadSortTimesAsync(
        IReadOnlyCollection<byte[]> ids, DateTime? notFirstSeenAt, Dictionary<string, DateTime> into,
        MySqlConnection connection, MySqlTransaction transaction, CancellationToken ct)
    {
        foreach (var chunk in ids.Chunk(UpsertStatements.ChunkSize * 2))
        {
            await using var select = UpsertStatements.SelectSortTimes(chunk, notFirstSeenAt);
            select.Connection = connection;
            select.Transaction = transaction;
            await using var reader = await select.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                into[Convert.ToHexString((byte[])reader[0])] = DateTime.SpecifyKind(reader.GetDateTime(1), DateTimeKind.Utc);
            }
        }
    }

    private static (MySqlConnection Connection, MySqlTransaction Transaction) Raw(NewsDbContext db) =>
        ((MySqlConnection)db.Database.GetDbConnection(), (MySqlTransaction)db.Database.CurrentTransaction!.GetDbTransaction());

    private static async Task ExecuteAsync(MySqlCommand command, MySqlConnection connection, MySqlTransaction transaction, CancellationToken ct)
    {
        await using (command)
        {
            command.Connection = connection;
            command.Transaction = transaction;
            await command.ExecuteNonQueryAsync(ct);
        }
    }
}
