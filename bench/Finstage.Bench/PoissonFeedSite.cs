using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Finstage.Testing;
using Microsoft.AspNetCore.Http;

namespace Finstage.Bench;

/// <summary>One feed of a <see cref="PoissonFeedSite"/>: its name and how many new items it publishes a second on average.</summary>
public sealed record PoissonFeed(string Name, double ItemsPerSecond);

/// <summary>One item a feed published, and when it first appeared in the feed.</summary>
public sealed record PublishedItem(string Feed, string Url, DateTimeOffset AppearedAt);

/// <summary>
/// A feed host on 127.0.0.1 whose feeds publish new items as Poisson processes, each at its own rate (issue 14's
/// freshness benchmark). The items' appearance times are drawn up front from a seeded generator, so two sites with
/// the same seed publish the same items at the same offsets from their start: the fixed sweep and adaptive polling
/// are measured against the same news. Each answer lists the newest <c>newest</c> items that have appeared, with an
/// ETag that is the item count (a conditional request for an unchanged feed is a 304, as real feeds answer). It counts
/// requests per second per host (the <c>Host</c> header) and keeps every request's time per feed.
/// </summary>
public sealed class PoissonFeedSite : IAsyncDisposable
{
    private readonly Dictionary<string, double[]> _appearances;
    private readonly int _newest;
    private readonly ConcurrentDictionary<(string Host, long Second), int> _perSecond = new();
    private readonly ConcurrentDictionary<string, ConcurrentQueue<double>> _requestsByFeed = new(StringComparer.Ordinal);
    private readonly Stopwatch _clock = new();
    private LocalFeedServer _server = null!;
    private long _requests;

    private PoissonFeedSite(IReadOnlyList<PoissonFeed> feeds, int seed, TimeSpan horizon, TimeSpan backlog, int newest)
    {
        _newest = newest;
        var random = new Random(seed);
        _appearances = new Dictionary<string, double[]>(StringComparer.Ordinal);
        foreach (var feed in feeds)
        {
            // Exponential gaps: a Poisson process. Items before the start (the backlog) are what the feed already
            // listed when polling began; they are served but never measured.
            var times = new List<double>();
            var t = -backlog.TotalSeconds;
            while (true)
            {
                t += -Math.Log(1 - random.NextDouble()) / feed.ItemsPerSecond;
                if (t > horizon.TotalSeconds)
                {
                    break;
                }
                times.Add(t);
            }
            _appearances[feed.Name] = [.. times];
        }
    }

    /// <summary>When the site started (the zero of every appearance time), on the wall clock.</summary>
    public DateTimeOffset StartedAt { get; private set; }

    public Uri BaseAddress => _server.BaseAddress;

    /// <summary>The crawler's <c>UrlTemplate</c> for this site.</summary>
    public string UrlTemplate => new Uri(_server.BaseAddress, "feeds/").ToString() + "{symbol}";

    public long Requests => Interlocked.Read(ref _requests);

    public TimeSpan Elapsed => _clock.Elapsed;

    public static async Task<PoissonFeedSite> StartAsync(IReadOnlyList<PoissonFeed> feeds, int seed, TimeSpan horizon, TimeSpan backlog, int newest = 20)
    {
        var site = new PoissonFeedSite(feeds, seed, horizon, backlog, newest);
        site._server = await LocalFeedServer.StartAsync(site.ServeAsync);
        // Until Begin the clock stands at zero: the backlog is served, dated from now.
        site.StartedAt = DateTimeOffset.UtcNow;
        return site;
    }

    /// <summary>
    /// Starts the site's clock: items appear from now on. Until then every feed lists its backlog only, so the services
    /// can start, and the watchlist be filled, before the measured time begins.
    /// </summary>
    public void Begin()
    {
        _perSecond.Clear();
        _requestsByFeed.Clear();
        Interlocked.Exchange(ref _requests, 0);
        StartedAt = DateTimeOffset.UtcNow;
        _clock.Restart();
    }

    /// <summary>Every item that appears in [<paramref name="from"/>, <paramref name="to"/>) after the start.</summary>
    public IReadOnlyList<PublishedItem> ItemsAppearing(TimeSpan from, TimeSpan to) =>
        [.. _appearances.SelectMany(feed => feed.Value
            .Select((at, index) => (at, index))
            .Where(item => item.at >= from.TotalSeconds && item.at < to.TotalSeconds)
            .Select(item => new PublishedItem(feed.Key, ItemUrl(feed.Key, item.index), StartedAt.AddSeconds(item.at))))];

    /// <summary>Requests that arrived in [<paramref name="from"/>, <paramref name="to"/>) after the start.</summary>
    public long RequestsBetween(TimeSpan from, TimeSpan to) =>
        _requestsByFeed.Values.Sum(times => times.Count(at => at >= from.TotalSeconds && at < to.TotalSeconds));

    /// <summary>The most requests any one host received within one second of the wall clock (second boundaries since the start).</summary>
    public int MaxRequestsInASecond(TimeSpan from, TimeSpan to) =>
        _perSecond.Where(pair => pair.Key.Second >= (long)from.TotalSeconds && pair.Key.Second < (long)to.TotalSeconds)
            .Select(pair => pair.Value).DefaultIfEmpty(0).Max();

    /// <summary>
    /// Per feed, the longest time in [<paramref name="from"/>, <paramref name="to"/>) without a request to it, counting
    /// from <paramref name="from"/> to its first request and from its last to <paramref name="to"/>: the longest any
    /// feed went uncrawled. Feeds never requested count the whole span.
    /// </summary>
    public double LongestGapSeconds(IEnumerable<string> feeds, TimeSpan from, TimeSpan to)
    {
        var longest = 0.0;
        foreach (var feed in feeds)
        {
            var times = _requestsByFeed.TryGetValue(feed, out var queue)
                ? queue.Where(at => at >= from.TotalSeconds && at < to.TotalSeconds).Order().ToList()
                : [];
            var previous = from.TotalSeconds;
            foreach (var at in times.Append(to.TotalSeconds))
            {
                longest = Math.Max(longest, at - previous);
                previous = at;
            }
        }
        return longest;
    }

    public ValueTask DisposeAsync() => _server.DisposeAsync();

    private static string ItemUrl(string feed, int index) =>
        string.Create(CultureInfo.InvariantCulture, $"https://news.example.com/{feed.ToLowerInvariant()}/{index}.html");

    private async Task ServeAsync(HttpContext context)
    {
        var now = _clock.Elapsed.TotalSeconds;
        Interlocked.Increment(ref _requests);
        // The server's own request log would grow without bound over a long run.
        _server.Requests.TryDequeue(out _);
        _perSecond.AddOrUpdate((context.Request.Host.Host, (long)now), 1, (_, count) => count + 1);
        var name = context.Request.Path.Value!.Split('/')[^1];
        if (!_appearances.TryGetValue(name, out var times))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }
        _requestsByFeed.GetOrAdd(name, _ => new ConcurrentQueue<double>()).Enqueue(now);

        var count = UpperBound(times, now);
        var etag = string.Create(CultureInfo.InvariantCulture, $"\"{name}-{count}\"");
        if (context.Request.Headers.IfNoneMatch == etag)
        {
            context.Response.StatusCode = StatusCodes.Status304NotModified;
            return;
        }
        context.Response.Headers.ETag = etag;
        var feed = new StringBuilder("""<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>""");
        feed.Append(CultureInfo.InvariantCulture, $"<title>{name} news</title><link>https://news.example.com/</link>");
        for (var index = count - 1; index >= Math.Max(0, count - _newest); index--)
        {
            var appeared = StartedAt.AddSeconds(times[index]);
            feed.Append(CultureInfo.InvariantCulture,
                $"<item><title>{name} story {index}</title><link>{ItemUrl(name, index)}</link>" +
                $"<guid isPermaLink=\"false\">{name}-{index}</guid><pubDate>{appeared.ToString("R", CultureInfo.InvariantCulture)}</pubDate></item>");
        }
        context.Response.ContentType = "application/rss+xml; charset=utf-8";
        await context.Response.WriteAsync(feed.Append("</channel></rss>").ToString());
    }

    // How many of the sorted times are at or before now.
    private static int UpperBound(double[] times, double now)
    {
        int low = 0, high = times.Length;
        while (low < high)
        {
            var middle = (low + high) / 2;
            if (times[middle] <= now)
            {
                low = middle + 1;
            }
            else
            {
                high = middle;
            }
        }
        return low;
    }
}
