using System.Data;
using System.Globalization;
using System.Text;
using Finstage.Contracts;
using Finstage.ServiceDefaults;
using Finstage.Storage.Infrastructure;
using MassTransit;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace Finstage.Storage.Events;

/// <summary>
/// Publishes the outbox's <see cref="ArticlesStored"/> events in sequence order, marks them published, and prunes
/// old ones. One instance relays at a time (it holds the <c>relayed</c> cursor row, skipped by the others), so
/// events leave in the order they committed, per symbol and overall. A crash between publishing and marking
/// publishes those events again with the same <see cref="ArticlesStored.EventId"/>: at least once.
/// </summary>
public sealed class ArticleEventRelay(
    IBus bus,
    ArticleEventSignal signal,
    IOptions<ArticleEventsOptions> options,
    IOptions<BusOptions> busOptions,
    IOptions<StorageConnection> connection,
    TimeProvider clock,
    ILogger<ArticleEventRelay> logger) : BackgroundService
{
    // While another instance holds the relay, look again soon: it may have read its list before our commit.
    private static readonly TimeSpan s_busyRetry = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan s_pruneEvery = TimeSpan.FromMinutes(1);
    private const int PruneChunk = 1000;

    private readonly ArticleEventsOptions _options = options.Value;
    private readonly string _connectionString = connection.Value.ConnectionString!;
    private DateTimeOffset _nextPrune = DateTimeOffset.MinValue;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var wait = _options.PollInterval;
            try
            {
                var pass = await RelayAsync(stoppingToken);
                if (pass == Pass.Full)
                {
                    continue;
                }
                if (pass == Pass.Busy)
                {
                    wait = s_busyRetry < wait ? s_busyRetry : wait;
                }
                await PruneIfDueAsync(stoppingToken);
            }
            catch (Exception error) when (!stoppingToken.IsCancellationRequested)
            {
                // The broker or the database is away: the events wait in the table; try again at the next poll.
                logger.LogWarning(error, "Relaying ArticlesStored events failed; retrying in {Wait}", wait);
            }
            try
            {
                await signal.WaitAsync(wait, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private enum Pass
    {
        /// <summary>Another instance holds the relay.</summary>
        Busy,
        /// <summary>Published what was waiting; nothing more was.</summary>
        Drained,
        /// <summary>Published a full batch: more may be waiting.</summary>
        Full,
    }

    private async Task<Pass> RelayAsync(CancellationToken cancellationToken)
    {
        await using var db = new MySqlConnection(_connectionString);
        await db.OpenAsync(cancellationToken);
        await using var transaction = await db.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken);

        // Held to the commit: the other instances skip it rather than wait, and relay when it is free.
        await using (var claim = new MySqlCommand(
            "SELECT `position` FROM `article_event_cursors` WHERE `name` = @name FOR UPDATE SKIP LOCKED", db, transaction))
        {
            claim.Parameters.AddWithValue("@name", ArticleEventCursor.Relayed);
            if (await claim.ExecuteScalarAsync(cancellationToken) is null)
            {
                return Pass.Busy;
            }
        }

        var pending = await ReadPendingAsync(db, transaction, cancellationToken);
        if (pending.Count == 0)
        {
            await transaction.CommitAsync(cancellationToken);
            return Pass.Drained;
        }
        if (_options.HoldBeforePublish is { } beforePublish)
        {
            await Task.Delay(beforePublish, clock, cancellationToken);
        }

        var published = new List<long>(pending.Count);
        Exception? failure = null;
        foreach (var message in pending)
        {
            try
            {
                using var deadline = busOptions.PublishDeadline(cancellationToken);
                await bus.Publish(message, context => context.MessageId = message.EventId, deadline.Token);
                published.Add(message.Sequence);
            }
            catch (Exception error) when (!cancellationToken.IsCancellationRequested)
            {
                // Stop at the first failure: a later event of the same symbol must not overtake it.
                failure = error;
                break;
            }
        }
        if (_options.HoldBeforeMarking is { } beforeMarking)
        {
            await Task.Delay(beforeMarking, clock, cancellationToken);
        }
        if (published.Count > 0)
        {
            await MarkPublishedAsync(db, transaction, published, cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
        if (failure is not null)
        {
            throw new InvalidOperationException(
                $"Published {published.Count} of {pending.Count} ArticlesStored events; the rest wait for the next attempt.", failure);
        }
        logger.LogDebug("Published {Count} ArticlesStored events up to sequence {Sequence}", published.Count, published[^1]);
        return pending.Count == _options.BatchSize ? Pass.Full : Pass.Drained;
    }

    private async Task<List<ArticlesStored>> ReadPendingAsync(MySqlConnection db, MySqlTransaction transaction, CancellationToken cancellationToken)
    {
        await using var read = new MySqlCommand(
            "SELECT `sequence`,`event_id`,`crawl_id`,`cycle_id`,`source`,`symbol`,`stored_at`,`articles` FROM `article_events`" +
            " WHERE `published_at` IS NULL ORDER BY `sequence` LIMIT @limit", db, transaction);
        read.Parameters.AddWithValue("@limit", _options.BatchSize);
        var pending = new List<ArticlesStored>();
        await using var reader = await read.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            pending.Add(new ArticlesStored(
                EventId: reader.GetGuid(1),
                Sequence: reader.GetInt64(0),
                CrawlId: reader.GetGuid(2),
                CycleId: reader.GetGuid(3),
                Source: reader.GetString(4),
                Symbol: reader.GetString(5),
                StoredAt: new DateTimeOffset(DateTime.SpecifyKind(reader.GetDateTime(6), DateTimeKind.Utc)),
                Articles: ArticleEventJson.Read(reader.GetString(7))));
        }
        return pending;
    }

    private async Task MarkPublishedAsync(MySqlConnection db, MySqlTransaction transaction, List<long> sequences, CancellationToken cancellationToken)
    {
        var sql = new StringBuilder("UPDATE `article_events` SET `published_at` = @now WHERE `sequence` IN (");
        await using var mark = new MySqlCommand { Connection = db, Transaction = transaction };
        mark.Parameters.AddWithValue("@now", clock.GetUtcNow().UtcDateTime);
        for (var i = 0; i < sequences.Count; i++)
        {
            var name = "@s" + i.ToString(CultureInfo.InvariantCulture);
            sql.Append(i == 0 ? name : "," + name);
            mark.Parameters.AddWithValue(name, sequences[i]);
        }
        sql.Append("); UPDATE `article_event_cursors` SET `position` = GREATEST(`position`, @last) WHERE `name` = @name");
        mark.Parameters.AddWithValue("@last", sequences[^1]);
        mark.Parameters.AddWithValue("@name", ArticleEventCursor.Relayed);
        mark.CommandText = sql.ToString();
        await mark.ExecuteNonQueryAsync(cancellationToken);
    }

    // Published events older than the retention, a chunk per statement so no delete holds many locks for long.
    private async Task PruneIfDueAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        if (now < _nextPrune)
        {
            return;
        }
        _nextPrune = now + s_pruneEvery;
        await using var db = new MySqlConnection(_connectionString);
        await db.OpenAsync(cancellationToken);
        int deleted;
        do
        {
            await using var prune = new MySqlCommand(
                "DELETE FROM `article_events` WHERE `stored_at` < @cutoff AND `published_at` IS NOT NULL ORDER BY `stored_at` LIMIT @chunk", db);
            prune.Parameters.AddWithValue("@cutoff", (now - _options.Retention).UtcDateTime);
            prune.Parameters.AddWithValue("@chunk", PruneChunk);
            deleted = await prune.ExecuteNonQueryAsync(cancellationToken);
        }
        while (deleted == PruneChunk);
    }
}
