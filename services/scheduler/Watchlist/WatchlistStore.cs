using System.Data.Common;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace Finstage.Scheduler.Watchlist;

/// <summary>What the result consumer reads of an entry before it decides.</summary>
public sealed record EntryState(TimeSpan Interval, TimeSpan? MinInterval, TimeSpan? MaxInterval, int Failures, byte[]? SeenUrls, DateTimeOffset? LastCrawledAt);

/// <summary>What the result consumer writes back.</summary>
public sealed record EntryOutcome(
    PollingDecision Decision, string Result, string? Detail, int? NewArticles, DateTimeOffset CrawledAt, byte[]? SeenUrls);

/// <summary>The watchlist's rows, in raw SQL over the scheduler's own connection (the runtime user: rows only).</summary>
public sealed class WatchlistStore(IOptions<HangfireConnection> connection)
{
    private const string Columns = """
        id, source, symbol, feed_url, host, group_name, enabled, priority, min_interval_s, max_interval_s, interval_ms, next_due_at,
        pending_until, last_requested_at, last_crawled_at, last_result, last_detail, last_new_articles, last_new_at, failures
        """;

    /// <summary>Every entry, by source and symbol.</summary>
    public async Task<IReadOnlyList<WatchlistEntry>> ListAsync(CancellationToken cancellationToken)
    {
        await using var db = await OpenAsync(cancellationToken);
        await using var command = new MySqlCommand($"SELECT {Columns} FROM watchlist_entries ORDER BY source, symbol", db);
        return await ReadEntriesAsync(command, cancellationToken);
    }

    /// <summary>The enabled entries seeded from <paramref name="group"/> (a swept group crawls these).</summary>
    public async Task<IReadOnlyList<WatchlistEntry>> GroupAsync(string group, CancellationToken cancellationToken)
    {
        await using var db = await OpenAsync(cancellationToken);
        await using var command = new MySqlCommand(
            $"SELECT {Columns} FROM watchlist_entries WHERE group_name = @group AND enabled = 1 ORDER BY symbol", db);
        command.Parameters.AddWithValue("@group", group);
        return await ReadEntriesAsync(command, cancellationToken);
    }

    public async Task<WatchlistEntry?> GetAsync(string source, string symbol, CancellationToken cancellationToken)
    {
        await using var db = await OpenAsync(cancellationToken);
        await using var command = new MySqlCommand($"SELECT {Columns} FROM watchlist_entries WHERE source = @source AND symbol = @symbol", db);
        command.Parameters.AddWithValue("@source", source);
        command.Parameters.AddWithValue("@symbol", symbol);
        return (await ReadEntriesAsync(command, cancellationToken)).SingleOrDefault();
    }

    /// <summary>
    /// Creates the entry, due now, or changes its settings; answers whether it was created. An entry that is resumed or
    /// gets another feed URL is due now too; a new URL also forgets the articles seen at the old one.
    /// </summary>
    public async Task<bool> UpsertAsync(EntrySettings settings, TimeSpan initialInterval, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var db = await OpenAsync(cancellationToken);
        // Insert first: of two callers putting the same new entry at once, one inserts and the other updates.
        await using (var insert = new MySqlCommand("""
            INSERT IGNORE INTO watchlist_entries
              (source, symbol, feed_url, host, group_name, enabled, priority, min_interval_s, max_interval_s, interval_ms, next_due_at, created_at, updated_at)
            VALUES (@source, @symbol, @feedUrl, @host, @group, @enabled, @priority, @min, @max, @interval, @now, @now, @now)
            """, db))
        {
            AddSettings(insert, settings);
            insert.Parameters.AddWithValue("@interval", (long)initialInterval.TotalMilliseconds);
            insert.Parameters.AddWithValue("@now", now.UtcDateTime);
            if (await insert.ExecuteNonQueryAsync(cancellationToken) == 1)
            {
                return true;
            }
        }
        // Assignments run left to right and see the values already assigned: the conditions come before what they compare.
        await using var update = new MySqlCommand("""
            UPDATE watchlist_entries
            SET next_due_at = IF((enabled = 0 AND @enabled = 1) OR NOT (feed_url <=> @feedUrl), @now, next_due_at),
                failures = IF((enabled = 0 AND @enabled = 1) OR NOT (feed_url <=> @feedUrl), 0, failures),
                seen_urls = IF(feed_url <=> @feedUrl, seen_urls, NULL),
                feed_url = @feedUrl, host = @host, enabled = @enabled, priority = @priority,
                min_interval_s = @min, max_interval_s = @max, updated_at = @now
            WHERE source = @source AND symbol = @symbol
            """, db);
        AddSettings(update, settings);
        update.Parameters.AddWithValue("@now", now.UtcDateTime);
        await update.ExecuteNonQueryAsync(cancellationToken);
        return false;
    }

    /// <summary>Pauses or resumes an entry (resumed: due now); false when there is no such entry.</summary>
    public async Task<bool> SetEnabledAsync(string source, string symbol, bool enabled, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var db = await OpenAsync(cancellationToken);
        await using var command = new MySqlCommand("""
            UPDATE watchlist_entries
            SET next_due_at = IF(enabled = 0 AND @enabled = 1, @now, next_due_at), failures = IF(enabled = 0 AND @enabled = 1, 0, failures),
                enabled = @enabled, updated_at = @now
            WHERE source = @source AND symbol = @symbol
            """, db);
        command.Parameters.AddWithValue("@source", source);
        command.Parameters.AddWithValue("@symbol", symbol);
        command.Parameters.AddWithValue("@enabled", enabled);
        command.Parameters.AddWithValue("@now", now.UtcDateTime);
        // Found rows, not changed ones: the connection is opened with UseAffectedRows=false.
        return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    /// <summary>Removes an entry; false when there was none.</summary>
    public async Task<bool> DeleteAsync(string source, string symbol, CancellationToken cancellationToken)
    {
        await using var db = await OpenAsync(cancellationToken);
        await using var command = new MySqlCommand("DELETE FROM watchlist_entries WHERE source = @source AND symbol = @symbol", db);
        command.Parameters.AddWithValue("@source", source);
        command.Parameters.AddWithValue("@symbol", symbol);
        return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    /// <summary>
    /// Writes a group's entries once: the first time the group is seen. Afterwards the database is the truth, so an entry
    /// removed through the API is not seeded back on the next start. Answers how many entries were added.
    /// </summary>
    public async Task<int> SeedAsync(string group, IReadOnlyList<EntrySettings> entries, TimeSpan initialInterval, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var db = await OpenAsync(cancellationToken);
        await using var transaction = await db.BeginTransactionAsync(cancellationToken);
        await using (var mark = new MySqlCommand("INSERT IGNORE INTO watchlist_seeds (group_name, seeded_at) VALUES (@group, @now)", db, transaction))
        {
            mark.Parameters.AddWithValue("@group", group);
            mark.Parameters.AddWithValue("@now", now.UtcDateTime);
            if (await mark.ExecuteNonQueryAsync(cancellationToken) == 0)
            {
                return 0;
            }
        }
        var added = 0;
        foreach (var settings in entries)
        {
            // An entry another group or the API already has stays as it is.
            await using var insert = new MySqlCommand("""
                INSERT IGNORE INTO watchlist_entries
                  (source, symbol, feed_url, host, group_name, enabled, priority, min_interval_s, max_interval_s, interval_ms, next_due_at, created_at, updated_at)
                VALUES (@source, @symbol, @feedUrl, @host, @group, @enabled, @priority, @min, @max, @interval, @now, @now, @now)
                """, db, transaction);
            AddSettings(insert, settings);
            insert.Parameters.AddWithValue("@interval", (long)initialInterval.TotalMilliseconds);
            insert.Parameters.AddWithValue("@now", now.UtcDateTime);
            added += await insert.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
        return added;
    }

    /// <summary>Makes every enabled entry polled adaptively due now (<c>Schedule:CrawlOnStart</c>).</summary>
    public async Task MakeAllDueAsync(IReadOnlyCollection<string> sweptGroups, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var db = await OpenAsync(cancellationToken);
        await using var command = new MySqlCommand(
            $"UPDATE watchlist_entries SET next_due_at = @now WHERE enabled = 1 AND next_due_at > @now{NotSwept(sweptGroups)}", db);
        command.Parameters.AddWithValue("@now", now.UtcDateTime);
        AddGroups(command, sweptGroups);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Enabled entries polled adaptively that are due and have no request out, most overdue first.</summary>
    public async Task<IReadOnlyList<DueEntry>> DueAsync(IReadOnlyCollection<string> sweptGroups, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var db = await OpenAsync(cancellationToken);
        await using var command = new MySqlCommand($"""
            SELECT id, source, symbol, feed_url, host, priority, next_due_at FROM watchlist_entries
            WHERE enabled = 1 AND next_due_at <= @now AND (pending_until IS NULL OR pending_until <= @now){NotSwept(sweptGroups)}
            ORDER BY next_due_at, id
            """, db);
        command.Parameters.AddWithValue("@now", now.UtcDateTime);
        AddGroups(command, sweptGroups);
        var due = new List<DueEntry>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            due.Add(new DueEntry(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), NullableString(reader, 3), reader.GetString(4),
                reader.GetInt32(5), Utc(reader.GetDateTime(6))));
        }
        return due;
    }

    /// <summary>What the enabled entries polled adaptively ask of each source, in requests a second.</summary>
    public async Task<IReadOnlyDictionary<string, double>> DemandAsync(IReadOnlyCollection<string> sweptGroups, CancellationToken cancellationToken)
    {
        await using var db = await OpenAsync(cancellationToken);
        await using var command = new MySqlCommand(
            $"SELECT source, SUM(1000.0 / interval_ms) FROM watchlist_entries WHERE enabled = 1{NotSwept(sweptGroups)} GROUP BY source", db);
        AddGroups(command, sweptGroups);
        var demand = new Dictionary<string, double>(StringComparer.OrdinalIgnoreCase);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            demand[reader.GetString(0)] = Convert.ToDouble(reader.GetValue(1), System.Globalization.CultureInfo.InvariantCulture);
        }
        return demand;
    }

    /// <summary>Requests out and not yet answered nor expired, per host.</summary>
    public async Task<IReadOnlyDictionary<string, int>> InFlightAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var db = await OpenAsync(cancellationToken);
        await using var command = new MySqlCommand(
            "SELECT host, COUNT(*) FROM watchlist_entries WHERE pending_until > @now GROUP BY host", db);
        command.Parameters.AddWithValue("@now", now.UtcDateTime);
        var counts = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            counts[reader.GetString(0)] = reader.GetInt32(1);
        }
        return counts;
    }

    /// <summary>
    /// Claims the entries for one round: marks those still due, enabled and with no request out as requested, so none of
    /// them is published again until its result is back or the request has expired, and each is provisionally due again one
    /// interval from now (its result then sets the real time). Answers the ids it marked; the round publishes only those.
    /// </summary>
    /// <remarks>
    /// The check and the mark are one transaction under the rows' locks: of two rounds holding the same stale list of due
    /// entries (two scheduler instances whose round lock failed to exclude each other), each entry goes to one of them.
    /// </remarks>
    public async Task<IReadOnlyList<long>> MarkRequestedAsync(
        IReadOnlyList<long> ids, DateTimeOffset now, DateTimeOffset pendingUntil, CancellationToken cancellationToken)
    {
        if (ids.Count == 0)
        {
            return [];
        }
        await using var db = await OpenAsync(cancellationToken);
        var marked = new List<long>(ids.Count);
        foreach (var chunk in ids.Chunk(500))
        {
            await using var transaction = await db.BeginTransactionAsync(cancellationToken);
            var inList = string.Join(",", chunk.Select((_, i) => "@id" + i));
            var claimed = new List<long>(chunk.Length);
            // A locking read sees the latest committed row, not the transaction's snapshot: a mark another round committed
            // a moment ago counts.
            await using (var check = new MySqlCommand($"""
                SELECT id FROM watchlist_entries
                WHERE id IN ({inList}) AND enabled = 1 AND next_due_at <= @now AND (pending_until IS NULL OR pending_until <= @now)
                ORDER BY id FOR UPDATE
                """, db, transaction))
            {
                check.Parameters.AddWithValue("@now", now.UtcDateTime);
                AddIds(check, chunk);
                await using var reader = await check.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    claimed.Add(reader.GetInt64(0));
                }
            }
            if (claimed.Count > 0)
            {
                await using var command = new MySqlCommand($"""
                    UPDATE watchlist_entries
                    SET pending_until = @until, last_requested_at = @now, next_due_at = DATE_ADD(@now, INTERVAL interval_ms * 1000 MICROSECOND)
                    WHERE id IN ({string.Join(",", claimed.Select((_, i) => "@id" + i))})
                    """, db, transaction);
                command.Parameters.AddWithValue("@now", now.UtcDateTime);
                command.Parameters.AddWithValue("@until", pendingUntil.UtcDateTime);
                AddIds(command, claimed);
                await command.ExecuteNonQueryAsync(cancellationToken);
            }
            await transaction.CommitAsync(cancellationToken);
            marked.AddRange(claimed);
        }
        return marked;
    }

    private static void AddIds(MySqlCommand command, IReadOnlyList<long> ids)
    {
        for (var i = 0; i < ids.Count; i++)
        {
            command.Parameters.AddWithValue("@id" + i, ids[i]);
        }
    }

    /// <summary>
    /// Undoes <see cref="MarkRequestedAsync"/> for the entries whose result has not come back since (a result clears the
    /// mark itself): due again now, so the next round publishes them again.
    /// </summary>
    public async Task UnmarkRequestedAsync(IReadOnlyList<long> ids, DateTimeOffset now, DateTimeOffset pendingUntil, CancellationToken cancellationToken)
    {
        if (ids.Count == 0)
        {
            return;
        }
        await using var db = await OpenAsync(cancellationToken);
        foreach (var chunk in ids.Chunk(500))
        {
            await using var command = new MySqlCommand($"""
                UPDATE watchlist_entries
                SET pending_until = NULL, next_due_at = @now
                WHERE pending_until = @until AND last_requested_at = @now AND id IN ({string.Join(",", chunk.Select((_, i) => "@id" + i))})
                """, db);
            command.Parameters.AddWithValue("@now", now.UtcDateTime);
            command.Parameters.AddWithValue("@until", pendingUntil.UtcDateTime);
            for (var i = 0; i < chunk.Length; i++)
            {
                command.Parameters.AddWithValue("@id" + i, chunk[i]);
            }
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    /// <summary>
    /// Applies a crawl result to its entry under a row lock, so two results for one entry (a manual and a scheduled crawl)
    /// never overwrite each other's count; <paramref name="decide"/> answers what to write. False when there is no such entry.
    /// </summary>
    public async Task<bool> ApplyResultAsync(
        string source, string symbol, Func<EntryState, EntryOutcome> decide, CancellationToken cancellationToken)
    {
        await using var db = await OpenAsync(cancellationToken);
        await using var transaction = await db.BeginTransactionAsync(cancellationToken);
        EntryState state;
        long id;
        await using (var read = new MySqlCommand("""
            SELECT id, interval_ms, min_interval_s, max_interval_s, failures, seen_urls, last_crawled_at
            FROM watchlist_entries WHERE source = @source AND symbol = @symbol FOR UPDATE
            """, db, transaction))
        {
            read.Parameters.AddWithValue("@source", source);
            read.Parameters.AddWithValue("@symbol", symbol);
            await using var reader = await read.ExecuteReaderAsync(cancellationToken);
            if (!await reader.ReadAsync(cancellationToken))
            {
                return false;
            }
            id = reader.GetInt64(0);
            state = new EntryState(
                TimeSpan.FromMilliseconds(reader.GetInt64(1)),
                reader.IsDBNull(2) ? null : TimeSpan.FromSeconds(reader.GetInt32(2)),
                reader.IsDBNull(3) ? null : TimeSpan.FromSeconds(reader.GetInt32(3)),
                reader.GetInt32(4),
                reader.IsDBNull(5) ? null : (byte[])reader.GetValue(5),
                reader.IsDBNull(6) ? null : Utc(reader.GetDateTime(6)));
        }
        var outcome = decide(state);
        await using (var write = new MySqlCommand("""
            UPDATE watchlist_entries
            SET interval_ms = @interval, next_due_at = @next, failures = @failures, pending_until = NULL,
                last_crawled_at = @crawledAt, last_result = @result, last_detail = @detail, last_new_articles = @new,
                last_new_at = IF(@new > 0, @crawledAt, last_new_at), seen_urls = IFNULL(@seen, seen_urls)
            WHERE id = @id
            """, db, transaction))
        {
            write.Parameters.AddWithValue("@id", id);
            write.Parameters.AddWithValue("@interval", (long)outcome.Decision.Interval.TotalMilliseconds);
            write.Parameters.AddWithValue("@next", outcome.Decision.NextDueAt.UtcDateTime);
            write.Parameters.AddWithValue("@failures", outcome.Decision.Failures);
            write.Parameters.AddWithValue("@crawledAt", outcome.CrawledAt.UtcDateTime);
            write.Parameters.AddWithValue("@result", outcome.Result);
            write.Parameters.AddWithValue("@detail", outcome.Detail is { Length: > 500 } detail ? detail[..500] : outcome.Detail);
            write.Parameters.AddWithValue("@new", outcome.NewArticles);
            write.Parameters.AddWithValue("@seen", outcome.SeenUrls);
            await write.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    private async Task<MySqlConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var db = new MySqlConnection(connection.Value.ConnectionString);
        await db.OpenAsync(cancellationToken);
        return db;
    }

    private static void AddSettings(MySqlCommand command, EntrySettings settings)
    {
        command.Parameters.AddWithValue("@source", settings.Source);
        command.Parameters.AddWithValue("@symbol", settings.Symbol);
        command.Parameters.AddWithValue("@feedUrl", settings.FeedUrl);
        command.Parameters.AddWithValue("@host", settings.Host);
        command.Parameters.AddWithValue("@group", settings.Group);
        command.Parameters.AddWithValue("@enabled", settings.Enabled);
        command.Parameters.AddWithValue("@priority", settings.Priority);
        command.Parameters.AddWithValue("@min", settings.MinInterval is { } min ? (int)min.TotalSeconds : null);
        command.Parameters.AddWithValue("@max", settings.MaxInterval is { } max ? (int)max.TotalSeconds : null);
    }

    private static string NotSwept(IReadOnlyCollection<string> sweptGroups) =>
        sweptGroups.Count == 0 ? "" : $" AND (group_name IS NULL OR group_name NOT IN ({string.Join(",", sweptGroups.Select((_, i) => "@g" + i))}))";

    private static void AddGroups(MySqlCommand command, IReadOnlyCollection<string> sweptGroups)
    {
        var i = 0;
        foreach (var group in sweptGroups)
        {
            command.Parameters.AddWithValue("@g" + i++, group);
        }
    }

    private static async Task<IReadOnlyList<WatchlistEntry>> ReadEntriesAsync(MySqlCommand command, CancellationToken cancellationToken)
    {
        var entries = new List<WatchlistEntry>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            entries.Add(new WatchlistEntry(
                Id: reader.GetInt64(0),
                Source: reader.GetString(1),
                Symbol: reader.GetString(2),
                FeedUrl: NullableString(reader, 3),
                Host: reader.GetString(4),
                Group: NullableString(reader, 5),
                Enabled: reader.GetBoolean(6),
                Priority: reader.GetInt32(7),
                MinInterval: reader.IsDBNull(8) ? null : TimeSpan.FromSeconds(reader.GetInt32(8)),
                MaxInterval: reader.IsDBNull(9) ? null : TimeSpan.FromSeconds(reader.GetInt32(9)),
                Interval: TimeSpan.FromMilliseconds(reader.GetInt64(10)),
                NextDueAt: Utc(reader.GetDateTime(11)),
                PendingUntil: NullableTime(reader, 12),
                LastRequestedAt: NullableTime(reader, 13),
                LastCrawledAt: NullableTime(reader, 14),
                LastResult: NullableString(reader, 15),
                LastDetail: NullableString(reader, 16),
                LastNewArticles: reader.IsDBNull(17) ? null : reader.GetInt32(17),
                LastNewAt: NullableTime(reader, 18),
                Failures: reader.GetInt32(19)));
        }
        return entries;
    }

    private static string? NullableString(DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    private static DateTimeOffset? NullableTime(DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : Utc(reader.GetDateTime(ordinal));

    // Every time is written as UTC; the server hands it back without a kind.
    private static DateTimeOffset Utc(DateTime value) => new(DateTime.SpecifyKind(value, DateTimeKind.Utc));
}
