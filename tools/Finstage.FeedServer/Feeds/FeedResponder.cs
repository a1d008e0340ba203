using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http.Headers;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Finstage.FeedServer.Feeds;

/// <summary>Answers one feed request: a misbehaviour when the symbol is configured for one, else the feed or a 304.</summary>
internal sealed class FeedResponder(NewsGenerator generator, IOptions<FeedServerOptions> options, TimeProvider time)
{
    private const string RssContentType = "application/rss+xml; charset=utf-8";

    private readonly HashSet<string> _broken = FeedServerOptions.SymbolSet(options.Value.BrokenSymbols);
    private readonly HashSet<string> _failing = FeedServerOptions.SymbolSet(options.Value.FailingSymbols);
    private readonly HashSet<string> _html = FeedServerOptions.SymbolSet(options.Value.HtmlSymbols);
    private readonly HashSet<string> _notModified = FeedServerOptions.SymbolSet(options.Value.NotModifiedSymbols);

    public async Task RespondAsync(HttpContext context, FeedCatalog.Feed feed)
    {
        var request = context.Request.GetTypedHeaders();
        var response = context.Response;
        if (options.Value.Latency > TimeSpan.Zero)
        {
            // Real time, not the injected clock: latency is about the wire, and a fake clock would never let it end.
            await Task.Delay(options.Value.Latency, context.RequestAborted);
        }
        if (_failing.Contains(feed.Symbol))
        {
            response.StatusCode = StatusCodes.Status500InternalServerError;
            await response.WriteAsync("Internal Server Error (configured in FeedServer:FailingSymbols)\n", context.RequestAborted);
            return;
        }
        if (_html.Contains(feed.Symbol))
        {
            response.ContentType = "text/html; charset=utf-8";
            await response.WriteAsync(NotAFeedPage(feed), context.RequestAborted);
            return;
        }
        if (_notModified.Contains(feed.Symbol) && (request.IfNoneMatch.Count > 0 || request.IfModifiedSince is not null))
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return;
        }

        var snapshot = generator.Snapshot(feed, time.GetUtcNow());
        var articleBase = ArticleBase(context);
        if (_broken.Contains(feed.Symbol))
        {
            // No validators: a broken answer should not be cached by the client as if it were a good one.
            response.ContentType = RssContentType;
            await response.Body.WriteAsync(FeedWriter.Truncated(snapshot, articleBase), context.RequestAborted);
            return;
        }

        var body = FeedWriter.Write(snapshot, articleBase);
        var etag = new EntityTagHeaderValue($"\"{Convert.ToHexStringLower(SHA256.HashData(body).AsSpan(0, 8))}\"");
        var lastModified = TruncateToSeconds(snapshot.LastModified);
        var headers = response.GetTypedHeaders();
        headers.ETag = etag;
        headers.LastModified = lastModified;
        if (IsNotModified(request, etag, lastModified))
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return;
        }
        response.ContentType = RssContentType;
        response.ContentLength = body.Length;
        await response.Body.WriteAsync(body, context.RequestAborted);
    }

    /// <summary>A small page for an article link, so a link followed from the demo's news list leads somewhere.</summary>
    public async Task ArticleAsync(HttpContext context, FeedCatalog.Feed feed, long sequence)
    {
        var item = generator.Item(feed, sequence);
        var page = new StringBuilder()
            .Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>").Append(WebUtility.HtmlEncode(item.Title))
            .Append("</title></head>\n<body><article><h1>").Append(WebUtility.HtmlEncode(item.Title)).Append("</h1>\n<p><time>")
            .Append(item.PublishedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture)).Append("</time> · ")
            .Append(WebUtility.HtmlEncode(feed.Name)).Append("</p>\n<p>").Append(WebUtility.HtmlEncode(item.Summary ?? item.Title))
            .Append("</p>\n<p><em>Invented sample news from Finstage.FeedServer; not real reporting.</em></p></article></body></html>\n");
        context.Response.ContentType = "text/html; charset=utf-8";
        await context.Response.WriteAsync(page.ToString(), context.RequestAborted);
    }

    private Uri ArticleBase(HttpContext context)
    {
        var configured = options.Value.PublicBaseUrl?.AbsoluteUri ?? $"{context.Request.Scheme}://{context.Request.Host}/";
        return new Uri(configured.EndsWith('/') ? configured : configured + "/");
    }

    // If-None-Match wins over If-Modified-Since when both are sent (RFC 9110, 13.2.2).
    private static bool IsNotModified(RequestHeaders request, EntityTagHeaderValue etag, DateTimeOffset lastModified)
    {
        if (request.IfNoneMatch.Count > 0)
        {
            return request.IfNoneMatch.Any(candidate => candidate.Equals(EntityTagHeaderValue.Any) || candidate.Compare(etag, useStrongComparison: false));
        }
        return request.IfModifiedSince is { } since && lastModified <= since;
    }

    private static DateTimeOffset TruncateToSeconds(DateTimeOffset value) =>
        new(value.Ticks - (value.Ticks % TimeSpan.TicksPerSecond), value.Offset);

    private static string NotAFeedPage(FeedCatalog.Feed feed) =>
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Just a moment…</title></head>\n"
        + "<body><h1>Checking your browser before accessing the site</h1>\n"
        + $"<p>This page stands where the {WebUtility.HtmlEncode(feed.Symbol)} feed should be (FeedServer:HtmlSymbols).</p></body></html>\n";
}
