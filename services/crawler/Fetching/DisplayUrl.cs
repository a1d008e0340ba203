using System.Text;
using System.Text.RegularExpressions;

namespace Finstage.Crawler.Fetching;

/// <summary>
/// A URL as failure details and logs may show it: without <c>user:password@</c> or fragment, and
/// with every query value that looks like a secret (by its name, or by looking like a key) replaced.
/// Details go out to <c>/api/crawls</c> and <c>/api/sources/health</c>.
/// </summary>
public static partial class DisplayUrl
{
    public const string Redacted = "REDACTED";

    private static readonly HashSet<string> SecretWords = new(StringComparer.OrdinalIgnoreCase)
    {
        "key", "apikey", "token", "secret", "password", "passwd", "pwd", "pass", "auth", "authorization",
        "signature", "sig", "session", "sessionid", "sid", "credential", "credentials", "jwt", "bearer", "hash",
    };

    public static string Of(Uri url)
    {
        ArgumentNullException.ThrowIfNull(url);
        if (!url.IsAbsoluteUri)
        {
            return "(a relative URL)";
        }
        var shown = new StringBuilder(url.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped));
        var query = url.GetComponents(UriComponents.Query, UriFormat.UriEscaped);
        if (query.Length > 0)
        {
            shown.Append('?').AppendJoin('&', query.Split('&').Select(RedactPair));
        }
        return shown.ToString();
    }

    private static string RedactPair(string pair)
    {
        var equals = pair.IndexOf('=', StringComparison.Ordinal);
        if (equals < 0)
        {
            return pair;
        }
        var name = pair[..equals];
        var value = Uri.UnescapeDataString(pair[(equals + 1)..]);
        return NamesASecret(Uri.UnescapeDataString(name)) || LooksLikeAKey(value) ? $"{name}={Redacted}" : pair;
    }

    // "access_token", "apiKey", "X-Amz-Signature": any word of the name is a secret's.
    private static bool NamesASecret(string name) =>
        SecretWords.Contains(name) || NameWords().Matches(name).Any(word => SecretWords.Contains(word.Value));

    // Long runs of letters and digits mixed, as keys and tokens are; tickers, dates and words are not.
    private static bool LooksLikeAKey(string value) =>
        value.Length >= 20 && KeyCharacters().IsMatch(value) && value.Any(char.IsAsciiDigit) && value.Any(char.IsAsciiLetter);

    [GeneratedRegex("[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[0-9]+")]
    private static partial Regex NameWords();

    [GeneratedRegex("^[A-Za-z0-9_.~+/=-]+$")]
    private static partial Regex KeyCharacters();
}
