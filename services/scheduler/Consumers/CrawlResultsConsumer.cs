using Finstage.Contracts;
using Finstage.Scheduler.Watchlist;
using MassTransit;
using MySqlConnector;
using Microsoft.Extensions.Options;

namespace Finstage.Scheduler.Consumers;

/// <summary>
/// Follows every crawl result (on a queue of the scheduler's own, beside storage's) and moves the entry's interval and
/// next due time by the polling rule; a result for a symbol not on the watchlist (a crawl by hand) changes nothing.
/// </summary>
public sealed class CrawlResultsConsumer(WatchlistStore watchlist, PollingRule rule, IOptionsMonitor<PollingOptions> polling)
    : IConsumer<NewsCrawled>, IConsumer<CrawlFailed>
{
    public Task Consume(ConsumeContext<NewsCrawled> context)
    {
        var crawled = context.Message;
        return watchlist.ApplyResultAsync(crawled.Source, crawled.Symbol, state =>
        {
            var firstCrawl = state.LastCrawledAt is null && state.SeenUrls is null;
            var (fresh, seen) = crawled.NotModified
                ? (0, state.SeenUrls)
                : SeenArticles.Compare(state.SeenUrls, crawled.Articles, firstCrawl, state.Interval, crawled.FetchedAt);
            var decision = rule.AfterCrawl(state.Interval, polling.CurrentValue.BoundsFor(state.MinInterval, state.MaxInterval), fresh, crawled.RefreshAfter);
            return new EntryOutcome(decision, crawled.NotModified ? "NotModified" : "Crawled", null, fresh, crawled.FetchedAt, seen);
        }, context.CancellationToken);
    }

    public Task Consume(ConsumeContext<CrawlFailed> context)
    {
        var failed = context.Message;
        return watchlist.ApplyResultAsync(failed.Source, failed.Symbol, state =>
        {
            var decision = rule.AfterFailure(
                state.Interval, polling.CurrentValue.BoundsFor(state.MinInterval, state.MaxInterval), state.Failures, failed.Reason, failed.RetryAfter);
            return new EntryOutcome(decision, failed.Reason.ToString(), failed.Detail, null, failed.FailedAt, null);
        }, context.CancellationToken);
    }
}

/// <summary>The queue of <see cref="CrawlResultsConsumer"/> (<see cref="PollingOptions.ResultsQueue"/>), a few rows updated at once, riding out a database outage unacknowledged.</summary>
public sealed class CrawlResultsConsumerDefinition : ConsumerDefinition<CrawlResultsConsumer>
{
    public CrawlResultsConsumerDefinition(IOptions<PollingOptions> options)
    {
        EndpointName = options.Value.ResultsQueue;
        ConcurrentMessageLimit = 8;
    }

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<CrawlResultsConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        // Outer: the database away (a restart, a failover). The result waits for it at a steady pace, unacknowledged,
        // for up to five minutes, rather than going to the error queue after seconds: the fault suite's 30 s outage
        // sent results there. A deadlock between two results for one entry is transient too, and waits the same way.
        consumerConfigurator.UseMessageRetry(retry =>
        {
            retry.Handle<MySqlException>(exception => exception.IsTransient);
            retry.Interval(60, TimeSpan.FromSeconds(5));
        });
        // Inner: anything else gets a few quick tries; a transient error passes straight to the retry above.
        consumerConfigurator.UseMessageRetry(retry =>
        {
            retry.Ignore<MySqlException>(exception => exception.IsTransient);
            retry.Intervals(200, 1000, 5000);
        });
    }
}
