using Microsoft.Extensions.Options;

namespace Finstage.Crawler.Sources;

/// <summary>Turns (source, symbol) into a feed URL, and knows each host's politeness limits.</summary>
public sealed class SourceCatalog(IOptions<SourcesOptions> options)
{
    private readonly Lazy<Dictionary<string, (double RequestsPerSecond, int Burst)>> _hostLimits = new(() => HostLimits(options.Value));

    /// <summary>The feed URL, or null when the source or the symbol is not configured.</summary>
    public Uri? Resolve(string source, string symbol) =>
        options.Value.Sources.TryGetValue(source, out var configured) && configured.TryResolve(symbol, out var url) ? url : null;

    /// <summary>
    /// The rate limit of a host (<c>scheme://host:port</c>): that of the source it belongs to, the
    /// strictest one where several sources share a host, and one request a second for any other.
    /// </summary>
    public (double RequestsPerSecond, int Burst) LimitsFor(string authority) =>
        _hostLimits.Value.TryGetValue(authority.TrimEnd('/'), out var limits) ? limits : (1, 1);

    private static Dictionary<string, (double, int)> HostLimits(SourcesOptions options)
    {
        var limits = new Dictionary<string, (double RequestsPerSecond, int Burst)>(StringComparer.OrdinalIgnoreCase);
        foreach (var source in options.Sources.Values)
        {
            var urls = source.Feeds.Keys.Select(symbol => source.TryResolve(symbol, out var url) ? url : null).ToList();
            if (source.UrlTemplate is not null && source.TryResolve("X", out var templated))
            {
                urls.Add(templated);
            }
            foreach (var url in urls.OfType<Uri>())
            {
                var authority = url.GetLeftPart(UriPartial.Authority);
                limits[authority] = limits.TryGetValue(authority, out var existing)
                    ? (Math.Min(existing.RequestsPerSecond, source.RequestsPerSecond), Math.Min(existing.Burst, source.Burst))
                    : (source.RequestsPerSecond, source.Burst);
            }
        }
        return limits;
    }
}
