using System.ComponentModel.DataAnnotations;

namespace Finstage.FeedServer;

/// <summary>How the local feed server generates its news and which feeds it makes misbehave.</summary>
/// <remarks>Symbol lists are comma-separated so that they fit one command-line switch or environment variable;
/// they match Yahoo symbols (<c>AAPL</c>, <c>^VIX</c>) and Investing pseudo-symbols (<c>ECONOMY</c>, <c>FED</c>), ignoring case.</remarks>
public sealed class FeedServerOptions
{
    public const string SectionName = "FeedServer";

    /// <summary>Each feed gains one new item per interval; the oldest one drops off the end.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan ItemInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Items in every feed.</summary>
    [Range(1, 200)]
    public int ItemsPerFeed { get; set; } = 15;

    /// <summary>Where article links point; unset, they point back at this server (which answers them with a small page).</summary>
    public Uri? PublicBaseUrl { get; set; }

    /// <summary>Symbols whose feed is a truncated XML document with no complete item (the crawler's ParseError).</summary>
    public string BrokenSymbols { get; set; } = "";

    /// <summary>Symbols whose feed answers 500 Internal Server Error.</summary>
    public string FailingSymbols { get; set; } = "";

    /// <summary>Symbols whose feed answers an HTML page with status 200 (the crawler's NotAFeed).</summary>
    public string HtmlSymbols { get; set; } = "";

    /// <summary>Symbols whose feed answers 304 to every request that carries a validator, even when it has changed.</summary>
    public string NotModifiedSymbols { get; set; } = "";

    /// <summary>Added before every feed answer, to show timeouts and concurrency.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan Latency { get; set; } = TimeSpan.Zero;

    internal static HashSet<string> SymbolSet(string list) =>
        new(list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), StringComparer.OrdinalIgnoreCase);
}
