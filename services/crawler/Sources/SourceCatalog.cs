using Microsoft.Extensions.Options;

namespace Finstage.Crawler.Sources;

/// <summary>Turns (source, symbol) into a feed URL, and knows each host's politeness limits.</summary>
public sealed class SourceCatalog(IOptions<SourcesOptions> options)
{
    private readonly Lazy<Dictionary<string, (double RequestsPerSecond, int Burst)>> _hostLimits = new(() => HostLimits(options.Value));
    private readonly Lazy<HashSet<(string Host, int Port)>> _endpoints = new(() => Endpoints(options.Value));

    /// <summary>The feed URL, or null when the source or the symbol is not configured.</summary>
    public Uri? Resolve(string source, string symbol) =>
        options.Value.Sources.TryGetValue(source, out var configured) && configured.TryResolve(symbol, out var url) ? url : null;

    /// <summary>The key of a URL's host in the fetch pipeline and its limits: <c>scheme://host:port</c>, never with credentials.</summary>
    public static string HostKeyOf(Uri url)
    {
        ArgumentNullException.ThrowIfNull(url);
        return url.GetComponents(UriComponents.SchemeAndServer, UriFormat.UriEscaped);
    }

    /// <summary>
    /// The rate limit of a host (<see cref="HostKeyOf"/>): that of the source it belongs to, the
    /// strictest one where several sources share a host, and one request a second for any other.
    /// </summary>
    public (double RequestsPerSecond, int Burst) LimitsFor(string authority) =>
        _hostLimits.Value.TryGetValue(authority, out var limits) ? limits : (1, 1);

    /// <summary>
    /// True when <paramref name="host"/> and <paramref name="port"/> are exactly those of a configured
    /// feed (as the URL names the host, not what it resolves to): the operator chose them, so they
    /// are fetched even on a private address, as the offline feed server on 127.0.0.1 is.
    /// </summary>
    public bool IsConfiguredEndpoint(string host, int port) => _endpoints.Value.Contains((HostKey(host), port));

    private static HashSet<(string, int)> Endpoints(SourcesOptions options)
    {
        var endpoints = new HashSet<(string, int)>();
        foreach (var source in options.Sources.Values)
        {
            foreach (var url in FeedUrls(source))
            {
                endpoints.Add((HostKey(url.IdnHost), url.Port));
            }
        }
        return endpoints;
    }

    // The connection names an IPv6 host without brackets and in lower case; a URL may have either.
    private static string HostKey(string host) => host.Trim('[', ']').ToLowerInvariant();

    // Every URL the source can produce: its named feeds, and its template with any symbol in it.
    private static IEnumerable<Uri> FeedUrls(FeedSourceOptions source)
    {
        var urls = source.Feeds.Keys.Select(symbol => source.TryResolve(symbol, out var url) ? url : null).ToList();
        if (source.UrlTemplate is not null && source.TryResolve("X", out var templated))
        {
            urls.Add(templated);
        }
        if (Uri.TryCreate(source.BaseUrl, UriKind.Absolute, out var baseUrl) && baseUrl.Scheme is "http" or "https")
        {
            urls.Add(baseUrl);
        }
        return urls.OfType<Uri>();
    }

    private static Dictionary<string, (double, int)> HostLimits(SourcesOptions options)
    {
        var limits = new Dictionary<string, (double RequestsPerSecond, int Burst)>(StringComparer.OrdinalIgnoreCase);
        foreach (var source in options.Sources.Values)
        {
            foreach (var url in FeedUrls(source))
            {
                var authority = HostKeyOf(url);
                limits[authority] = limits.TryGetValue(authority, out var existing)
                    ? (Math.Min(existing.RequestsPerSecond, source.RequestsPerSecond), Math.Min(existing.Burst, source.Burst))
                    : (source.RequestsPerSecond, source.Burst);
            }
        }
        return limits;
    }
}
