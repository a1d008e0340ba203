using System.CommandLine;
using Finstage.Crawler.Fetching;
using Finstage.Crawler.Parsing;
using Finstage.Crawler.Sources;
using Microsoft.Extensions.Options;

namespace Finstage.Crawler.Commands;

/// <summary>
/// <c>fetch SOURCE SYMBOL</c>: fetches one feed live, through the same sources, HTTP pipeline and
/// parser as the worker, and prints it as <c>parse</c> does.
/// </summary>
/// <remarks>Exit 0 for any feed; exit 2 with one line "Reason: detail" on stderr when the fetch or the parse fails.</remarks>
public static class FetchCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var source = new Argument<string>("SOURCE") { Description = "A configured source: yahoo, investing, feed, …" };
        var symbol = new Argument<string>("SYMBOL") { Description = "A symbol (AAPL), an Investing.com pseudo-symbol (ECONOMY) or a feed name." };
        var command = new Command("fetch", "Fetch one feed live and print it as JSON.") { source, symbol };
        command.SetAction((result, cancellationToken) =>
            ExecuteAsync(result.GetRequiredValue(source), result.GetRequiredValue(symbol), [], output, error, cancellationToken));
        return command;
    }

    /// <summary>Fetches with the configuration of appsettings.json, the environment and <paramref name="settings"/> (KEY=VALUE).</summary>
    public static async Task<int> ExecuteAsync(
        string source, string symbol, string[] settings, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = settings, ContentRootPath = AppContext.BaseDirectory });
        // stdout carries the JSON alone.
        builder.Logging.ClearProviders();
        builder.AddFeedFetching();
        using var host = builder.Build();

        Uri? url;
        try
        {
            url = host.Services.GetRequiredService<SourceCatalog>().Resolve(source, symbol);
        }
        catch (OptionsValidationException invalid)
        {
            await error.WriteLineAsync($"Configuration: {string.Join(" ", invalid.Failures)}");
            return 1;
        }
        if (url is null)
        {
            await error.WriteLineAsync($"NotConfigured: source '{source}' has no feed for '{symbol}'.");
            return ParseCommand.NotParsedExitCode;
        }
        var fetched = await host.Services.GetRequiredService<FeedFetcher>().FetchAsync(url, cancellationToken);
        if (fetched.Failed)
        {
            await error.WriteLineAsync($"{fetched.Failure}: {DisplayUrl.Of(url)}: {fetched.Detail}");
            return ParseCommand.NotParsedExitCode;
        }
        if (fetched.NotModified)
        {
            // A fresh process sends no validators, so only a misbehaving server answers 304 here.
            await error.WriteLineAsync($"HttpError: {DisplayUrl.Of(url)}: answered 304 Not Modified to an unconditional request.");
            return ParseCommand.NotParsedExitCode;
        }
        var maxBytes = host.Services.GetRequiredService<IOptions<FetchOptions>>().Value.MaxResponseBytes;
        var parsed = new FeedParser(new FeedParserOptions { MaxBytes = maxBytes }).ParseWithin(fetched.Body, fetched.ContentType, url, cancellationToken);
        return ParseCommand.Print(parsed, output, error);
    }
}
