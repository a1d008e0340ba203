using System.ComponentModel.DataAnnotations;
using MySqlConnector;

namespace Finstage.Storage.Infrastructure;

/// <summary>
/// The read API's own connection pool and the bounds on what one read may cost. The pool is separate
/// from the one ingest writes through, so readers can hold at most <see cref="MaxPoolSize"/> connections
/// and never one that a batch of crawl results needs; a read that finds them all busy is refused with a
/// 503 after <see cref="CheckoutTimeoutSeconds"/>, not queued for a minute. See docs/decisions/0012-bounded-reads.md.
/// </summary>
public sealed class ReadOptions
{
    public const string SectionName = "Reads";

    /// <summary>Connections the read API may hold at once; with the default command timeout, also the most statements of readers the database runs at once.</summary>
    [Range(1, 1000)]
    public int MaxPoolSize { get; set; } = 4;

    /// <summary>Seconds a read waits for a free connection of its pool (or to open one) before it is answered 503.</summary>
    [Range(1, 60)]
    public int CheckoutTimeoutSeconds { get; set; } = 2;

    /// <summary>Seconds one statement of a read may run before it is cancelled and answered 503.</summary>
    [Range(1, 600)]
    public int CommandTimeoutSeconds { get; set; } = 10;

    /// <summary>
    /// Rows of the index a list walks that one request examines at most when a filter is not served by that index
    /// (<c>text</c>; <c>source</c> together with <c>symbol</c>; a crawl <c>status</c>): a page can come back short,
    /// even empty, with a <c>nextCursor</c> that continues the search after the rows examined.
    /// </summary>
    [Range(100, 1_000_000)]
    public int ScanRows { get; set; } = 5000;

    /// <summary>The read pool's connection string: the ingest pool's settings with this pool's size and timeouts.</summary>
    public string BuildConnectionString(string ingestConnectionString)
    {
        var builder = new MySqlConnectionStringBuilder(ingestConnectionString)
        {
            MinimumPoolSize = 0,
            MaximumPoolSize = (uint)MaxPoolSize,
            ConnectionTimeout = (uint)CheckoutTimeoutSeconds,
            DefaultCommandTimeout = (uint)CommandTimeoutSeconds,
            // Also what makes it a pool of its own: MySqlConnector keeps one pool per connection string.
            ApplicationName = "finstage-storage-reads",
        };
        return builder.ConnectionString;
    }
}
