using Finstage.Crawler.Fetching;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Finstage.Crawler.Tests.Fetching;

/// <summary>The crawler's real fetching services (sources, HTTP pipeline, parser), pointed at a local feed server.</summary>
internal sealed class FetchHost : IDisposable
{
    private readonly IHost _host;

    public FetchHost(Uri feedServer, IDictionary<string, string?>? settings = null, ILoggerProvider? logs = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.ClearProviders();
        if (logs is not null)
        {
            builder.Logging.AddProvider(logs);
            builder.Logging.SetMinimumLevel(LogLevel.Trace);
        }
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Sources:local:UrlTemplate"] = new Uri(feedServer, "feeds/{symbol}").ToString(),
            ["Sources:local:RequestsPerSecond"] = "1000",
            ["Sources:local:Burst"] = "1000",
            ["Fetch:RetryDelay"] = "00:00:00.050",
            ["Fetch:AttemptTimeout"] = "00:00:05",
            ["Fetch:TotalTimeout"] = "00:00:20",
        });
        if (settings is not null)
        {
            builder.Configuration.AddInMemoryCollection(settings);
        }
        builder.AddFeedFetching();
        _host = builder.Build();
    }

    public FeedFetcher Fetcher => _host.Services.GetRequiredService<FeedFetcher>();

    public FeedCrawler Crawler => _host.Services.GetRequiredService<FeedCrawler>();

    public ValidatorCache Validators => _host.Services.GetRequiredService<ValidatorCache>();

    public FetchPlaces Places => _host.Services.GetRequiredService<FetchPlaces>();

    /// <summary>A crawler of these services whose time budget runs on <paramref name="clock"/> (HTTP keeps real time).</summary>
    public FeedCrawler CrawlerWith(TimeProvider clock) => ActivatorUtilities.CreateInstance<FeedCrawler>(_host.Services, clock);

    public static Uri FeedUrl(Uri server, string symbol) => new(server, "feeds/" + Uri.EscapeDataString(symbol));

    public void Dispose() => _host.Dispose();
}

/// <summary>Every log line the host writes, formatted, at any level.</summary>
internal sealed class CapturedLogs : ILoggerProvider
{
    public System.Collections.Concurrent.ConcurrentQueue<string> Lines { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturedLogs logs, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            logs.Lines.Enqueue($"{category}: {formatter(state, exception)} {exception}");
    }
}
