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
    /// <summary>
    /// Stores a batch of crawl results in one transaction, in three round trips for results of ordinary size (the
    /// articles, the rest, the commit; <see cref="RoundTrips"/>); returns the crawl runs recorded.
    /// </summary>
    public async Task<IReadOnlyList<CrawlRun>> StoreAsync(IReadOnlyList<NewsCrawled> crawls, CancellationToken cancellationToken)
    {
        var eventsWritten = 0;
        var runs = await sessions.WriteAsync(async (db, ct) =>
        {
            var now = clock.GetUtcNow().UtcDateTime;
            var plan = CrawlBatchPlan.Create(crawls, now);
            var (connection, transaction) = Raw(db);

            // Which articles were stored already: those a consistent read (no locks) finds before the upsert, and those
            // another batch stored meanwhile. That batch held the row, this batch's upsert waited for its commit and then
            // only updated it; read after the upsert, whose locks keep the answer until the commit, they are the ones
            // whose first sighting is not this batch's. So of two batches (in one process or two) that carried the same
            // new article, exactly one counts and announces it as new.
            var ids = plan.ArticleIds;
            var stored = new Dictionary<string, DateTime>(StringComparer.Ordinal);
            await ReadSortTimesAsync(
                [
                    .. ids.Chunk(UpsertStatements.ChunkSize * 2).Select(chunk => UpsertStatements.SelectSortTimes(chunk)),
                    .. UpsertStatements.ArticleChunks(plan.Articles).Select(UpsertStatements.Articles),
                    .. ids.Chunk(UpsertStatements.ChunkSize * 2).Select(chunk => UpsertStatements.SelectSortTimes(chunk, notFirstSeenAt: now)),
                ],
                stored, connection, transaction, ct);

            var (links, runs) = plan.Resolve(stored, now);
            var outbox = ArticleEventOutbox.Add(plan.NewArticles, now);
            await ExecuteAsync(
                [
                    .. links.Chunk(UpsertStatements.ChunkSize).Select(UpsertStatements.Links),
                    .. ids.Chunk(UpsertStatements.ChunkSize * 2).Select(chunk => SymbolStatsStatements.AddNewLinks(chunk, now)),
                    .. runs.Chunk(UpsertStatements.ChunkSize).Select(UpsertStatements.CrawlRuns),
                    // Last: they lock the outbox's sequence until the commit (ArticleEventOutbox.Add).
                    .. outbox,
                ],
                connection, transaction, ct);
            eventsWritten = outbox.Count;
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
            await ExecuteAsync([UpsertStatements.CrawlRuns([run])], connection, transaction, ct);
            return true;
        }, cancellationToken);
    }

    /// <summary>
    /// Sends <paramref name="commands"/> in as few round trips as <see cref="RoundTrips"/> allows and collects the
    /// (id, sort time) rows that their queries answer.
    /// </summary>
    private static async Task ReadSortTimesAsync(
        IEnumerable<MySqlBatchCommand> commands, Dictionary<string, DateTime> into,
        MySqlConnection connection, MySqlTransaction transaction, CancellationToken ct)
    {
        foreach (var trip in RoundTrips.Of(commands))
        {
            await using var batch = Batch(trip, connection, transaction);
            await using var reader = await batch.ExecuteReaderAsync(ct);
            do
            {
                while (await reader.ReadAsync(ct))
                {
                    into[Convert.ToHexString((byte[])reader[0])] = DateTime.SpecifyKind(reader.GetDateTime(1), DateTimeKind.Utc);
                }
            }
            while (await reader.NextResultAsync(ct));
        }
    }

    private static (MySqlConnection Connection, MySqlTransaction Transaction) Raw(NewsDbContext db) =>
        ((MySqlConnection)db.Database.GetDbConnection(), (MySqlTransaction)db.Database.CurrentTransaction!.GetDbTransaction());

    /// <summary>Sends <paramref name="commands"/> in as few round trips as <see cref="RoundTrips"/> allows; none when there are none.</summary>
    private static async Task ExecuteAsync(
        IEnumerable<MySqlBatchCommand> commands, MySqlConnection connection, MySqlTransaction transaction, CancellationToken ct)
    {
        foreach (var trip in RoundTrips.Of(commands))
        {
            await using var batch = Batch(trip, connection, transaction);
            await batch.ExecuteNonQueryAsync(ct);
        }
    }

    private static MySqlBatch Batch(IEnumerable<MySqlBatchCommand> commands, MySqlConnection connection, MySqlTransaction transaction)
    {
        var batch = new MySqlBatch(connection, transaction);
        foreach (var command in commands)
        {
            batch.BatchCommands.Add(command);
        }
        return batch;
    }
}
