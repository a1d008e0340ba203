using Finstage.Contracts;
using Finstage.Crawler.Fetching;
using Finstage.Crawler.Parsing;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Finstage.Crawler.Consumers;

/// <summary>
/// Answers the scheduler's <see cref="CheckFeed"/> before it accepts a feed URL onto the watchlist: one fetch and one
/// parse, through the same HTTP pipeline as every crawl (the private-network guard, the host's rate, size and time caps).
/// </summary>
public sealed class CheckFeedConsumer(FeedFetcher fetcher, IOptions<FetchOptions> options, ILogger<CheckFeedConsumer> logger)
    : IConsumer<CheckFeed>
{
    public async Task Consume(ConsumeContext<CheckFeed> context)
    {
        var check = context.Message;
        if (!Uri.TryCreate(check.FeedUrl, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
        {
            await context.RespondAsync(Refused(check, CrawlFailureReason.NotAFeed, "Not an absolute http(s) URL.", null));
            return;
        }
        // In full, never conditional: a 304 would say nothing about whether this is a feed.
        var fetched = await fetcher.FetchAsync(url, conditional: false, context.CancellationToken);
        if (fetched.Failed)
        {
            await context.RespondAsync(Refused(check, fetched.Failure!.Value, fetched.Detail, fetched.HttpStatus));
            return;
        }
        var parsed = new FeedParser(new FeedParserOptions { MaxBytes = options.Value.MaxResponseBytes })
            .ParseWithin(fetched.Body, fetched.ContentType, url, context.CancellationToken);
        FeedChecked answer = parsed.Feed is { } feed && (feed.WellFormed || feed.Items.Count > 0)
            ? new(check.CheckId, check.FeedUrl, true, null, null, fetched.HttpStatus, feed.Items.Count, feed.Title)
            : Refused(check, parsed.Failure ?? CrawlFailureReason.ParseError,
                parsed.Detail ?? string.Join("; ", parsed.Feed?.Warnings ?? []), fetched.HttpStatus);
        logger.LogInformation("Checked feed {Url}: {Outcome}", DisplayUrl.Of(url), answer.IsFeed ? $"{answer.Articles} items" : $"{answer.Reason}: {answer.Detail}");
        await context.RespondAsync(answer);
    }

    private static FeedChecked Refused(CheckFeed check, CrawlFailureReason reason, string? detail, int? status) =>
        new(check.CheckId, check.FeedUrl, false, reason, FieldLengths.Fit(detail, FieldLengths.Detail), status, 0, null);
}
