using System.Net;
using System.Text;
using Finstage.FeedServer.Feeds;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Finstage.FeedServer;

/// <summary>The feed server's wiring: options, the news generator, and its endpoints.</summary>
public static class Extensions
{
    public const string DefaultUrl = "http://127.0.0.1:5090";

    // Short switches for demos; the long form (--FeedServer:BrokenSymbols=…) works as for any setting.
    private static readonly Dictionary<string, string> Switches = new(StringComparer.Ordinal)
    {
        ["--interval"] = $"{FeedServerOptions.SectionName}:{nameof(FeedServerOptions.ItemInterval)}",
        ["--items"] = $"{FeedServerOptions.SectionName}:{nameof(FeedServerOptions.ItemsPerFeed)}",
        ["--public-base-url"] = $"{FeedServerOptions.SectionName}:{nameof(FeedServerOptions.PublicBaseUrl)}",
        ["--broken"] = $"{FeedServerOptions.SectionName}:{nameof(FeedServerOptions.BrokenSymbols)}",
        ["--failing"] = $"{FeedServerOptions.SectionName}:{nameof(FeedServerOptions.FailingSymbols)}",
        ["--html"] = $"{FeedServerOptions.SectionName}:{nameof(FeedServerOptions.HtmlSymbols)}",
        ["--not-modified"] = $"{FeedServerOptions.SectionName}:{nameof(FeedServerOptions.NotModifiedSymbols)}",
        ["--latency"] = $"{FeedServerOptions.SectionName}:{nameof(FeedServerOptions.Latency)}",
    };

    /// <summary>Registers the server's services; options come from the <c>FeedServer</c> section and the command line.</summary>
    public static WebApplicationBuilder AddFeedServer(this WebApplicationBuilder builder, string[] args)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Configuration.AddCommandLine(args, Switches);
        if (string.IsNullOrEmpty(builder.Configuration[WebHostDefaults.ServerUrlsKey]))
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }
        builder.Logging.AddSimpleConsole(console =>
        {
            console.SingleLine = true;
            console.TimestampFormat = "HH:mm:ss ";
        });
        // One line per request comes from MapFeedServer; ASP.NET Core's own four would drown it.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Services.AddOptions<FeedServerOptions>().BindConfiguration(FeedServerOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<NewsGenerator>();
        builder.Services.AddSingleton<FeedResponder>();
        return builder;
    }

    /// <summary>Maps <c>/health</c>, the Yahoo and Investing feed paths, article pages, and an index page at <c>/</c>.</summary>
    public static WebApplication MapFeedServer(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Finstage.FeedServer");
        app.Use(async (context, next) =>
        {
            await next(context);
            if (context.Request.Path != "/health")
            {
                log.LogInformation("{Method} {Path}{Query} -> {Status}", context.Request.Method, context.Request.Path,
                    context.Request.QueryString, context.Response.StatusCode);
            }
        });

        app.MapGet("/health", () => Results.Text("Healthy"));
        app.MapGet("/", IndexPage);
        app.MapGet("/rss/2.0/headline", (FeedResponder responder, string? s) =>
            string.IsNullOrWhiteSpace(s)
                ? Results.Problem("The query parameter s must name a symbol.", statusCode: StatusCodes.Status400BadRequest)
                : new FeedResult(responder, FeedCatalog.YahooFeed(s.Trim())));
        app.MapGet("/rss/{file}", (FeedResponder responder, string file) =>
            FeedCatalog.InvestingFeed("/rss/" + file) is { } feed ? new FeedResult(responder, feed) : Results.NotFound());
        app.MapGet("/articles/{source}/{symbol}/{sequence:long}/{**slug}", (FeedResponder responder, string source, string symbol, long sequence) =>
            FeedCatalog.Find(source, symbol) is { } feed ? new ArticleResult(responder, feed, sequence) : Results.NotFound());
        return app;
    }

    private static IResult IndexPage()
    {
        var page = new StringBuilder("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Finstage feed server</title></head>\n<body>")
            .Append("<h1>Finstage feed server</h1>\n<p>Invented sample news in the shape of Yahoo Finance and Investing.com feeds.</p>\n<h2>Yahoo-shaped</h2>\n<ul>");
        foreach (var symbol in new[] { "AAPL", "^GSPC", "^VIX", "^TNX", "XLK" })
        {
            var href = $"/rss/2.0/headline?s={Uri.EscapeDataString(symbol)}&region=US&lang=en-US";
            page.Append("<li><a href=\"").Append(WebUtility.HtmlEncode(href)).Append("\">").Append(WebUtility.HtmlEncode(symbol)).Append("</a></li>");
        }
        page.Append("</ul>\n<h2>Investing-shaped</h2>\n<ul>");
        foreach (var (path, symbol, title) in FeedCatalog.InvestingFeeds)
        {
            page.Append("<li><a href=\"").Append(path).Append("\">").Append(symbol).Append("</a> ").Append(WebUtility.HtmlEncode(title)).Append("</li>");
        }
        return Results.Content(page.Append("</ul></body></html>\n").ToString(), "text/html; charset=utf-8");
    }

    private sealed class FeedResult(FeedResponder responder, FeedCatalog.Feed feed) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext) => responder.RespondAsync(httpContext, feed);
    }

    private sealed class ArticleResult(FeedResponder responder, FeedCatalog.Feed feed, long sequence) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext) => responder.ArticleAsync(httpContext, feed, sequence);
    }
}
