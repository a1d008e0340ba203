using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Finstage.Testing;
using Microsoft.AspNetCore.Http;

namespace Finstage.Bench;

/// <summary>
/// A feed host on 127.0.0.1 that answers every symbol's RSS (a few items, no ETag) after a fixed
/// latency, and counts when requests arrive so the highest rate it saw can be reported.
/// </summary>
public sealed class FeedSite : IAsyncDisposable
{
    private readonly ConcurrentQueue<long> _arrivals = new();
    private readonly TimeSpan _latency;
    private readonly int _items;
    private LocalFeedServer _server = null!;

    private FeedSite(TimeSpan latency, int items)
    {
        _latency = latency;
        _items = items;
    }

    /// <summary>The crawler's <c>UrlTemplate</c> for this site.</summary>
    public string UrlTemplate => new Uri(_server.BaseAddress, "rss?s={symbol}").ToString();

    public int Requests => _arrivals.Count;

    public static async Task<FeedSite> StartAsync(TimeSpan latency, int items = 5)
    {
        var site = new FeedSite(latency, items);
        site._server = await LocalFeedServer.StartAsync(site.ServeAsync);
        return site;
    }

    public void Reset()
    {
        _arrivals.Clear();
        _server.Requests.Clear();
    }

    /// <summary>The most requests that arrived within any one second.</summary>
    public double MaxRequestsPerSecond()
    {
        var times = _arrivals.Order().ToArray();
        var window = Stopwatch.Frequency;
        int best = 0, start = 0;
        for (var end = 0; end < times.Length; end++)
        {
            while (times[end] - times[start] >= window)
            {
                start++;
            }
            best = Math.Max(best, end - start + 1);
        }
        return best;
    }

    public ValueTask DisposeAsync() => _server.DisposeAsync();

    private async Task ServeAsync(HttpContext context)
    {
        _arrivals.Enqueue(Stopwatch.GetTimestamp());
        // The server's own request log would grow without bound over the memory figure's cycles.
        _server.Requests.TryDequeue(out _);
        if (_latency > TimeSpan.Zero)
        {
            await Task.Delay(_latency, context.RequestAborted);
        }
        var symbol = context.Request.Query["s"].ToString();
        var feed = new StringBuilder("""<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>""");
        feed.Append(CultureInfo.InvariantCulture, $"<title>{symbol} news</title><link>https://news.example.com/</link>");
        for (var i = 1; i <= _items; i++)
        {
            feed.Append(CultureInfo.InvariantCulture,
                $"<item><title>{symbol} headline {i}</title><link>https://news.example.com/{Uri.EscapeDataString(symbol)}/{i}.html?utm_source=rss</link>" +
                $"<description>What happened to {symbol} today, story {i}.</description><guid isPermaLink=\"false\">{symbol}-{i}</guid>" +
                $"<pubDate>Wed, 25 Nov 2026 {i % 24:00}:30:00 +0000</pubDate></item>");
        }
        context.Response.ContentType = "application/rss+xml; charset=utf-8";
        await context.Response.WriteAsync(feed.Append("</channel></rss>").ToString());
    }
}
