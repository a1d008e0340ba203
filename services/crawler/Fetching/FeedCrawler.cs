using System.Diagnostics;
using Finstage.Contracts;
using Finstage.Crawler.Parsing;
using Finstage.Crawler.Sources;
using Finstage.ServiceDefaults;
using Microsoft.Extensions.Options;

namespace Finstage.Crawler.Fetching;

/// <summary>
/// Turns one crawl request into exactly one result (<see cref="CrawlOutcome"/>): <see cref="NewsCrawled"/>
/// with every item of the feed, or <see cref="CrawlFailed"/> with the reason.
/// </summary>
/// <remarks>
/// It remembers no validators: a feed's ETag stands for the articles of that version, so it is
/// kept (<see cref="CrawlOutcome.Crawled.RememberValidators"/>) only once they are published; a result
/// that never left would otherwise turn every later fetch into a 304 and lose that version.
/// </remarks>
public sealed class FeedCrawler(
    SourceCatalog sources, FeedFetcher fetcher, IOptions<FetchOptions> options, IOptions<BusOptions> bus, CrawlerMetrics metrics,
    TimeProvider clock)
{
    /// <summary>
    /// Crawls the request, and hands back the answer's validators with a feed's result for the publisher
    /// to remember once it is published (<see cref="CrawlOutcome.Crawled.RememberValidators"/>); a caller
    /// that publishes nothing leaves them. A <paramref name="repeated"/> request (redelivered, or retried
    /// after its result could not be published) fetches in full besides: a second guard, as nothing
    /// unpublished has left validators behind.
    /// </summary>
    public async Task<CrawlOutcome> CrawlAsync(CrawlRequested request, bool repeated, CancellationToken cancellationToken)
    {
        using var activity = Telemetry.Source.StartActivity("crawl feed");
        activity?.SetTag("finstage.source", request.Source);
        activity?.SetTag("finstage.symbol", request.Symbol);
        activity?.SetTag("finstage.crawl.id", request.CrawlId);
        var started = Stopwatch.GetTimestamp();
        metrics.RecordQueueLag(request.Source, clock.GetUtcNow() - request.RequestedAt);
        var crawl = await CrawlCoreAsync(request, repeated, started, cancellationToken);
        var (outcome, articles) = crawl.Match(
            crawled => (crawled.Message.NotModified ? "NotModified" : "Succeeded", crawled.Message.Articles.Count),
            failed => (failed.Message.Reason.ToString(), 0));
        activity?.SetTag("finstage.crawl.outcome", outcome);
        activity?.SetTag("finstage.articles", articles);
        if (crawl is CrawlOutcome.Failed failure)
        {
            activity?.SetStatus(ActivityStatusCode.Error, failure.Message.Detail);
        }
        metrics.Record(request.Source, outcome, Stopwatch.GetElapsedTime(started), articles);
        return crawl;
    }

    private async Task<CrawlOutcome> CrawlCoreAsync(CrawlRequested request, bool repeated, long started, CancellationToken cancellationToken)
    {
        // One budget for the whole crawl: the fetch gets Fetch:TotalTimeout, the parse whatever the fetch left.
        var budgetStarted = clock.GetTimestamp();
        if (request.NotAfter is { } notAfter && clock.GetUtcNow() > notAfter)
        {
            return Failed(request, CrawlFailureReason.Cancelled, $"The request expired at {notAfter:O} before it was picked up.", 0, null, started);
        }
        // A feed named by URL (a watchlist entry's) is fetched as it is: the connection guard, not the
        // configuration, decides whether its address may be reached, and its host's token bucket paces it.
        Uri? url;
        if (request.FeedUrl is { } feedUrl)
        {
            if (!Uri.TryCreate(feedUrl, UriKind.Absolute, out url) || url.Scheme is not ("http" or "https"))
            {
                return Failed(request, CrawlFailureReason.NotConfigured,
                    $"The request's feed URL for {request.Source}/{request.Symbol} is not an absolute http(s) URL.", 0, null, started);
            }
        }
        else if ((url = sources.Resolve(request.Source, request.Symbol)) is null)
        {
            return Failed(request, CrawlFailureReason.NotConfigured,
                $"Source '{request.Source}' has no feed for '{request.Symbol}'.", 0, null, started);
        }

        var shown = DisplayUrl.Of(url);
        var fetchStarted = clock.GetTimestamp();
        var fetched = await fetcher.FetchAsync(url, conditional: !repeated, cancellationToken);
        metrics.RecordFetch(request.Source, fetched.Failed ? "failed" : fetched.NotModified ? "not_modified" : "ok", clock.GetElapsedTime(fetchStarted));
        if (fetched.Failed)
        {
            return Failed(request, fetched.Failure!.Value, $"{shown}: {fetched.Detail}", fetched.Attempts, fetched.HttpStatus, started, fetched.RetryAfter);
        }
        if (fetched.NotModified)
        {
            return Crawled(request, fetched, [], notModified: true, started, fetched.RefreshAfter);
        }

        var left = options.Value.TotalTimeout - clock.GetElapsedTime(budgetStarted);
        if (Parse(fetched, url, left, cancellationToken) is not { } parsed)
        {
            return Failed(request, CrawlFailureReason.Timeout,
                $"{shown}: parsing did not finish in the {Math.Max(left.TotalSeconds, 0):0.###} s the fetch left of the crawl's {options.Value.TotalTimeout.TotalSeconds:0.#} s (Fetch:TotalTimeout).",
                fetched.Attempts, fetched.HttpStatus, started);
        }
        if (!parsed.Succeeded)
        {
            return Failed(request, parsed.Failure.Value, $"{shown}: {parsed.Detail}", fetched.Attempts, fetched.HttpStatus, started);
        }
        // A broken document that yielded no item is a failure to report, not an empty feed.
        if (!parsed.Feed.WellFormed && parsed.Feed.Items.Count == 0)
        {
            return Failed(request, CrawlFailureReason.ParseError, $"{shown}: {string.Join("; ", parsed.Feed.Warnings)}",
                fetched.Attempts, fetched.HttpStatus, started);
        }
        // What the feed describes can be far larger than the feed: cut to what storage keeps, and
        // refuse what would still not fit a message (this service's body cap stands for its consumers').
        var articles = OutgoingArticles.Fit(parsed.Feed.Items);
        var cap = bus.Value.MaxMessageBytes;
        var limit = cap - Math.Min(OutgoingArticles.EnvelopeAllowance, cap / 4);
        if (OutgoingArticles.JsonBytes(articles, limit) is null)
        {
            return Failed(request, CrawlFailureReason.TooLarge,
                $"{shown}: its {articles.Count} articles come to more than {limit} bytes as a message (Bus:MaxMessageBytes is {cap}).",
                fetched.Attempts, fetched.HttpStatus, started);
        }
        var timeToLive = parsed.Feed.TimeToLive;
        return Crawled(request, fetched, articles, notModified: false, started, FreshnessHints.Max(fetched.RefreshAfter, timeToLive)) with
        {
            FeedUrl = url,
            Validators = fetched.Validators is { } answered ? answered with { TimeToLive = timeToLive } : null,
        };
    }

    // The parse is CPU work on this consumer's thread; the token, cancelled when the budget runs out, is looked at
    // throughout it. Null when it ran out; the consumer's own cancellation (shutdown) propagates.
    private FeedParseResult? Parse(FetchOutcome fetched, Uri url, TimeSpan left, CancellationToken cancellationToken)
    {
        using var budget = new CancellationTokenSource(left > TimeSpan.Zero ? left : TimeSpan.Zero, clock);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(budget.Token, cancellationToken);
        if (left <= TimeSpan.Zero)
        {
            budget.Cancel();
        }
        try
        {
            return new FeedParser(new FeedParserOptions { MaxBytes = options.Value.MaxResponseBytes })
                .ParseWithin(fetched.Body, fetched.ContentType, url, linked.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    private CrawlOutcome.Crawled Crawled(
        CrawlRequested request, FetchOutcome fetched, IReadOnlyList<NewsArticle> articles, bool notModified, long started, TimeSpan? refreshAfter) =>
        new(new NewsCrawled(request.CrawlId, request.CycleId, request.Source, request.Symbol, clock.GetUtcNow(), Stopwatch.GetElapsedTime(started),
            fetched.HttpStatus ?? 0, notModified, articles, refreshAfter));

    private CrawlOutcome.Failed Failed(
        CrawlRequested request, CrawlFailureReason reason, string detail, int attempts, int? httpStatus, long started, TimeSpan? retryAfter = null) =>
        new(new CrawlFailed(request.CrawlId, request.CycleId, request.Source, request.Symbol, reason, detail, attempts, clock.GetUtcNow(),
            httpStatus, Stopwatch.GetElapsedTime(started), retryAfter));
}
