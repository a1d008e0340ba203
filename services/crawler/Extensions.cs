using System.Net;
using System.Threading.RateLimiting;
using Finstage.Crawler.Consumers;
using Finstage.Crawler.Fetching;
using Finstage.Crawler.Politeness;
using Finstage.Crawler.Sources;
using Finstage.ServiceDefaults;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;

namespace Finstage.Crawler;

/// <summary>The crawler's wiring: sources, the polite HTTP pipeline, the consumer.</summary>
public static class Extensions
{
    /// <summary>Everything a fetch needs, without the bus: the worker and the <c>fetch</c> command share it.</summary>
    public static TBuilder AddFeedFetching<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        var services = builder.Services;
        services.AddOptions<FetchOptions>().BindConfiguration(FetchOptions.SectionName).ValidateDataAnnotations()
            // The old names of the two counts, from when they counted messages (docs/decisions/0026-fetch-places.md): a
            // deployment still setting one would otherwise run on the default without a word.
            .Validate<IConfiguration>(
                (_, configuration) => configuration["Fetch:ConcurrentMessageLimit"] is null && configuration["Fetch:ManualConcurrentMessageLimit"] is null,
                "Fetch:ConcurrentMessageLimit and Fetch:ManualConcurrentMessageLimit are now Fetch:ConcurrentFetches and Fetch:ManualConcurrentFetches (docs/decisions/0026-fetch-places.md).")
            .ValidateOnStart();
        services.AddOptions<SourcesOptions>().BindConfiguration(SourcesOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<SourceCatalog>();
        services.AddSingleton<ValidatorCache>();
        services.AddSingleton<CrawlerMetrics>();
        services.AddSingleton<FeedCrawler>();
        services.AddSingleton<FetchPlaces>();
        services.AddSingleton(TimeProvider.System);
        services.AddTransient<AttemptCountingHandler>();
        services.AddTransient<SafeRedirectHandler>();
        services.AddSingleton<GuardedConnector>();
        builder.AddSharedHostBudget();

        var client = services.AddHttpClient<FeedFetcher>((provider, http) =>
            {
                var fetch = provider.GetRequiredService<IOptions<FetchOptions>>().Value;
                // The resilience pipeline and FetchAsync's own budget bound every request.
                http.Timeout = Timeout.InfiniteTimeSpan;
                http.DefaultRequestHeaders.UserAgent.ParseAdd(fetch.UserAgent);
                http.DefaultRequestHeaders.Accept.ParseAdd("application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, application/xml;q=0.8, text/xml;q=0.8, */*;q=0.1");
            })
            .ConfigurePrimaryHttpMessageHandler(provider => new SocketsHttpHandler
            {
                AutomaticDecompression = DecompressionMethods.All,
                // SafeRedirectHandler follows redirects, and only into http(s).
                AllowAutoRedirect = false,
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                ConnectTimeout = TimeSpan.FromSeconds(10),
                // Every connection, the first and every redirect's, is opened by the guard, which
                // checks the address it connects to. Through a proxy it would see only the proxy.
                ConnectCallback = provider.GetRequiredService<GuardedConnector>().ConnectAsync,
                UseProxy = false,
            });
        client.AddResilienceHandler("feed", ConfigureFeedPipeline)
            // One pipeline per host: its own circuit breaker and its own token bucket, shared by all
            // consumers. Keyed without user:password@, which the built-in authority key keeps and Polly logs.
            .SelectPipelineBy(_ => request => SourceCatalog.HostKeyOf(request.RequestUri!));
        // Added after the resilience handler, so they sit inside it and see every attempt.
        client.AddHttpMessageHandler<AttemptCountingHandler>();
        client.AddHttpMessageHandler<SafeRedirectHandler>();
        return builder;
    }

    /// <summary>The crawler worker: fetching plus the consumer of crawl requests.</summary>
    public static WebApplicationBuilder AddCrawler(this WebApplicationBuilder builder)
    {
        builder.AddFeedFetching();
        builder.AddFinstageBus(bus =>
        {
            bus.AddConsumer<FetchNewsConsumer>(typeof(FetchNewsConsumerDefinition));
            // Crawls asked for by hand wait in a queue of their own, so scheduled cycles keep their cadence
            // (docs/decisions/0013-manual-crawls.md); both share each host's token bucket below.
            bus.AddConsumer<FetchManualNewsConsumer>(typeof(FetchManualNewsConsumerDefinition));
            bus.AddConsumer<CheckFeedConsumer>();
        });
        // The gauge it feeds is read only by an exporter: without one, no extra broker connection.
        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            builder.Services.AddHostedService<CrawlQueueDepth>();
        }
        return builder;
    }

    /// <summary>
    /// With <c>ConnectionStrings:Redis</c>, every host's token bucket lives in Redis, shared by all crawler
    /// instances, and the health check reports degraded while Redis does not answer.
    /// </summary>
    private static void AddSharedHostBudget(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<HostBudgetOptions>().BindConfiguration(HostBudgetOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        var redis = builder.Configuration.GetConnectionString("Redis");
        if (string.IsNullOrWhiteSpace(redis))
        {
            return;
        }
        builder.Services.AddSingleton(provider => new SharedBudgetStore(
            redis, provider.GetRequiredService<IOptions<HostBudgetOptions>>(), provider.GetRequiredService<TimeProvider>(),
            provider.GetRequiredService<ILogger<SharedBudgetStore>>()));
        builder.Services.AddHealthChecks().AddCheck<SharedBudgetHealthCheck>(
            "host-budget-redis", tags: [ServiceDefaults.Extensions.ReadyTag], timeout: TimeSpan.FromSeconds(5));
    }

    private static void ConfigureFeedPipeline(ResiliencePipelineBuilder<HttpResponseMessage> pipeline, ResilienceHandlerContext context)
    {
        var fetch = context.ServiceProvider.GetRequiredService<IOptions<FetchOptions>>().Value;
        var (requestsPerSecond, burst) = context.ServiceProvider.GetRequiredService<SourceCatalog>().LimitsFor(context.InstanceName);
        // With Redis, one bucket per host shared by every crawler instance (docs/decisions/0017-shared-host-budget.md);
        // without it, this process's own, enough for a single instance.
        RateLimiter limiter = context.ServiceProvider.GetService<SharedBudgetStore>() is { } store
            ? new SharedHostRateLimiter(context.InstanceName, requestsPerSecond, burst, store, context.ServiceProvider.GetRequiredService<TimeProvider>())
            : new TokenBucketRateLimiter(HostTokenBucket.Options(requestsPerSecond, burst));
        pipeline
            .AddTimeout(fetch.TotalTimeout)
            .AddRetry(new HttpRetryStrategyOptions
            {
                MaxRetryAttempts = Math.Max(fetch.MaxRetryAttempts, 1),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = fetch.RetryDelay,
                ShouldRetryAfterHeader = true,
                // A Retry-After beyond what we are willing to wait ends the crawl now, as RateLimited;
                // a blocked address stays blocked.
                ShouldHandle = args => fetch.MaxRetryAttempts > 0 && !WaitsTooLong(args.Outcome.Result, fetch.MaxRetryAfter)
                    && !BlockedAddressException.IsIn(args.Outcome.Exception)
                    ? ValueTask.FromResult(HttpClientResiliencePredicates.IsTransient(args.Outcome))
                    : ValueTask.FromResult(false),
            })
            .AddCircuitBreaker(new HttpCircuitBreakerStrategyOptions
            {
                FailureRatio = fetch.BreakerFailureRatio,
                MinimumThroughput = fetch.BreakerMinimumThroughput,
                SamplingDuration = fetch.BreakerSamplingDuration,
                BreakDuration = fetch.BreakerBreakDuration,
            })
            .AddRateLimiter(limiter)
            .AddTimeout(fetch.AttemptTimeout);
    }

    private static bool WaitsTooLong(HttpResponseMessage? response, TimeSpan limit) =>
        response?.Headers.RetryAfter is { } retryAfter
        && (retryAfter.Delta ?? (retryAfter.Date - DateTimeOffset.UtcNow) ?? TimeSpan.Zero) > limit;
}
