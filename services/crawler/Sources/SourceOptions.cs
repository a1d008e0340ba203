using System.ComponentModel.DataAnnotations;

namespace Finstage.Crawler.Sources;

/// <summary>The feed sources by name (<c>yahoo</c>, <c>investing</c>, <c>feed</c>, …), from the <c>Sources</c> section.</summary>
public sealed class SourcesOptions : IValidatableObject
{
    /// <summary>Bound from the configuration root, so that the section reads <c>Sources:yahoo:UrlTemplate</c>.</summary>
    public const string SectionName = "";

    public Dictionary<string, FeedSourceOptions> Sources { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var (name, source) in Sources)
        {
            if (source.UrlTemplate is null && source.Feeds.Count == 0)
            {
                continue; // A source with nothing configured (say, `feed` before any URL is added) is allowed; crawls of it fail as NotConfigured.
            }
            if (source.UrlTemplate is not null && !source.UrlTemplate.Contains("{symbol}", StringComparison.Ordinal))
            {
                yield return new ValidationResult($"Source '{name}': UrlTemplate must contain {{symbol}}.");
            }
            foreach (var (symbol, _) in source.Feeds)
            {
                if (source.TryResolve(symbol, out _) is false)
                {
                    yield return new ValidationResult($"Source '{name}': feed '{symbol}' is not an absolute http(s) URL (with BaseUrl where it is a path).");
                }
            }
            if (source.RequestsPerSecond is <= 0 or > 1000 || source.Burst is < 1 or > 1000)
            {
                yield return new ValidationResult($"Source '{name}': RequestsPerSecond must be in (0, 1000] and Burst in [1, 1000].");
            }
        }
    }
}

/// <summary>
/// One source: either a URL template with <c>{symbol}</c> (one feed per symbol) or a table of
/// named feeds (paths under <see cref="BaseUrl"/>, or absolute URLs), and its politeness limits.
/// </summary>
public sealed class FeedSourceOptions
{
    public string? UrlTemplate { get; set; }

    public string? BaseUrl { get; set; }

    /// <summary>Symbol (or pseudo-symbol, or feed name) → path or URL.</summary>
    public Dictionary<string, string> Feeds { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Requests a second to one host of this source, shared by every consumer in the process.</summary>
    public double RequestsPerSecond { get; set; } = 1;

    /// <summary>Requests that may go out at once after a quiet spell.</summary>
    public int Burst { get; set; } = 2;

    /// <summary>The feed URL of a symbol, or false when the source does not know it.</summary>
    public bool TryResolve(string symbol, out Uri? url)
    {
        url = null;
        string? candidate = null;
        if (Feeds.TryGetValue(symbol, out var feed))
        {
            // On Unix "/rss/news.rss" parses as an absolute file: URI, so only http(s) counts as absolute here.
            var isAbsolute = Uri.TryCreate(feed, UriKind.Absolute, out var absolute) && absolute.Scheme is "http" or "https";
            candidate = isAbsolute || BaseUrl is null
                ? feed
                : BaseUrl.TrimEnd('/') + "/" + feed.TrimStart('/');
        }
        else if (UrlTemplate is not null)
        {
            candidate = UrlTemplate.Replace("{symbol}", Uri.EscapeDataString(symbol), StringComparison.Ordinal);
        }
        if (candidate is not null && Uri.TryCreate(candidate, UriKind.Absolute, out var parsed) && parsed.Scheme is "http" or "https")
        {
            url = parsed;
            return true;
        }
        return false;
    }
}
