using System.Globalization;
using System.Text;
using Microsoft.Extensions.Options;

namespace Finstage.FeedServer.Feeds;

/// <summary>One invented article; the same (feed, sequence) always gives the same article.</summary>
internal sealed record NewsItem(
    long Sequence, string Title, string? Summary, DateTimeOffset PublishedAt, string Slug, string Author, Guid Guid, string ImageId, int ImageBytes);

/// <summary>The items a feed shows at one instant, newest first, and the instant the newest appeared.</summary>
internal sealed record FeedSnapshot(FeedCatalog.Feed Feed, IReadOnlyList<NewsItem> Items, DateTimeOffset LastModified);

/// <summary>
/// Makes every feed's news from the clock: item n of a feed appears at <c>epoch + phase + n × interval</c>
/// and stays until <see cref="FeedServerOptions.ItemsPerFeed"/> newer ones have pushed it off the end.
/// </summary>
/// <remarks>Nothing is stored: any (feed, instant) can be recomputed, so the server is stateless, repeatable in
/// tests, and an article link can be answered long after its feed moved on. The phase, from the feed's name,
/// keeps all feeds from gaining their items in the same second.</remarks>
internal sealed class NewsGenerator(IOptions<FeedServerOptions> options)
{
    private static readonly DateTimeOffset Epoch = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static readonly string[] InvestingAuthors = ["Finstage Desk", "Sample Wire"];

    public FeedSnapshot Snapshot(FeedCatalog.Feed feed, DateTimeOffset now)
    {
        var interval = options.Value.ItemInterval.Ticks;
        var sinceEpoch = (now - Epoch).Ticks - Phase(feed).Ticks;
        // Floor division, so an instant before the epoch still lands in the right slot.
        var latest = sinceEpoch >= 0 ? sinceEpoch / interval : ((sinceEpoch + 1) / interval) - 1;
        var items = new List<NewsItem>(options.Value.ItemsPerFeed);
        for (var n = latest; n > latest - options.Value.ItemsPerFeed; n--)
        {
            items.Add(Item(feed, n));
        }
        return new FeedSnapshot(feed, items, AppearsAt(feed, latest));
    }

    public NewsItem Item(FeedCatalog.Feed feed, long sequence)
    {
        var random = StableRandom.For(feed.Source, feed.Symbol.ToUpperInvariant(), sequence.ToString(CultureInfo.InvariantCulture));
        var up = random.Next(0, 2) == 0;
        var topic = feed.Topic;
        var title = Templates.Fill(random.Pick(topic.Titles), topic, up, ref random, feed.Name);
        var summary = topic.Summaries.Length == 0 ? null : Templates.Fill(random.Pick(topic.Summaries), topic, up, ref random, feed.Name);
        // Published a little before it shows up in the feed, as real items are; never later than the next item.
        var halfInterval = (int)Math.Max(1, options.Value.ItemInterval.TotalSeconds / 2);
        var publishedAt = AppearsAt(feed, sequence).AddSeconds(-random.Next(0, halfInterval));
        var guid = new Guid(BitConverter.GetBytes(random.NextUInt64()).Concat(BitConverter.GetBytes(random.NextUInt64())).ToArray());
        var imageId = random.NextUInt64().ToString("x16", CultureInfo.InvariantCulture);
        return new NewsItem(sequence, title, summary, publishedAt, Slug(title), random.Pick(InvestingAuthors), guid, imageId, random.Next(15_000, 60_000));
    }

    private DateTimeOffset AppearsAt(FeedCatalog.Feed feed, long sequence) =>
        Epoch + Phase(feed) + TimeSpan.FromTicks(sequence * options.Value.ItemInterval.Ticks);

    private TimeSpan Phase(FeedCatalog.Feed feed)
    {
        var seconds = (ulong)Math.Max(1, (long)options.Value.ItemInterval.TotalSeconds);
        return TimeSpan.FromSeconds(StableRandom.Hash(feed.Source, feed.Symbol.ToUpperInvariant()) % seconds);
    }

    private static string Slug(string title)
    {
        var slug = new StringBuilder(title.Length);
        foreach (var c in title.ToLowerInvariant())
        {
            if (char.IsAsciiLetterOrDigit(c))
            {
                slug.Append(c);
            }
            else if (slug.Length > 0 && slug[^1] != '-')
            {
                slug.Append('-');
            }
        }
        return slug.ToString(0, Math.Min(slug.Length, 80)).TrimEnd('-');
    }
}
