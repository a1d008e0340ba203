using System.Text;

namespace Finstage.Crawler.Parsing;

/// <summary>Gives every article one URL: absolute http(s), tracking parameters removed, trivial variations erased.</summary>
/// <remarks>Storage keys articles by the hash of this URL, so two links that differ only in campaign tags,
/// letter case of the host, a default port or a fragment must come out identical. Other query parameters
/// keep their order and spelling: reordering or re-escaping them could change what a server returns.</remarks>
public static class UrlCanonicalizer
{
    private static readonly HashSet<string> TrackingNames = new(StringComparer.OrdinalIgnoreCase)
    {
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "ysclid", "twclid",
        "mc_cid", "mc_eid", "_hsenc", "__hstc", "mkt_tok", ".tsrc",
    };

    /// <summary>The canonical form of <paramref name="url"/>, resolved against <paramref name="baseUri"/> when
    /// relative; null when it is empty, malformed, or not http(s).</summary>
    public static string? Canonicalize(string? url, Uri? baseUri = null)
    {
        if (url is null)
        {
            return null;
        }

        // Pretty-printed feeds wrap links in newlines and indentation; URLs never contain raw whitespace.
        var cleaned = RemoveWhitespace(url);
        if (cleaned.Length == 0)
        {
            return null;
        }

        var uri = Resolve(cleaned, baseUri);
        if (uri is null || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps) || uri.Host.Length == 0)
        {
            return null;
        }

        var sb = new StringBuilder(cleaned.Length);
        sb.Append(uri.Scheme).Append("://");
        if (uri.UserInfo.Length > 0)
        {
            sb.Append(uri.UserInfo).Append('@');
        }

        sb.Append(uri.Host.ToLowerInvariant());
        if (!uri.IsDefaultPort)
        {
            sb.Append(':').Append(uri.Port);
        }

        sb.Append(uri.AbsolutePath.Length == 0 ? "/" : uri.AbsolutePath);
        var query = KeptQuery(uri.Query);
        if (query.Length > 0)
        {
            sb.Append('?').Append(query);
        }

        return sb.ToString();
    }

    /// <summary>Whether a query parameter exists only to track a click or a campaign.</summary>
    public static bool IsTrackingParameter(string name) =>
        TrackingNames.Contains(name)
        || name.StartsWith("utm_", StringComparison.OrdinalIgnoreCase)
        || name.StartsWith("mtm_", StringComparison.OrdinalIgnoreCase);

    private static Uri? Resolve(string url, Uri? baseUri)
    {
        if (Uri.TryCreate(url, UriKind.Absolute, out var absolute)
            && (absolute.Scheme == Uri.UriSchemeHttp || absolute.Scheme == Uri.UriSchemeHttps))
        {
            return absolute;
        }

        // On Unix "/path" parses as an absolute file: URI; anything else absolute (mailto:, javascript:) is final.
        if (absolute is not null && !absolute.IsFile)
        {
            return absolute;
        }

        if (baseUri is not null && baseUri.IsAbsoluteUri && Uri.TryCreate(baseUri, url, out var resolved))
        {
            return resolved;
        }

        return null;
    }

    private static string KeptQuery(string query)
    {
        if (query.Length <= 1)
        {
            return "";
        }

        var kept = new List<string>();
        foreach (var pair in query[1..].Split('&'))
        {
            if (pair.Length == 0)
            {
                continue;
            }

            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            var name = Uri.UnescapeDataString(eq < 0 ? pair : pair[..eq]);
            if (!IsTrackingParameter(name))
            {
                kept.Add(pair);
            }
        }

        return string.Join('&', kept);
    }

    private static string RemoveWhitespace(string url)
    {
        var trimmed = url.Trim();
        if (!trimmed.Any(char.IsWhiteSpace))
        {
            return trimmed;
        }

        // Whitespace inside a link is either wrapping (drop it) or an unescaped space (escape it).
        var sb = new StringBuilder(trimmed.Length);
        foreach (var c in trimmed)
        {
            if (c is '\r' or '\n' or '\t')
            {
                continue;
            }

            sb.Append(char.IsWhiteSpace(c) ? "%20" : c);
        }

        return sb.ToString();
    }
}
