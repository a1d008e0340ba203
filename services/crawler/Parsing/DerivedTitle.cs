using System.Buffers;
using System.Text;

namespace Finstage.Crawler.Parsing;

/// <summary>
/// A title for an entry that links to an article but names it nowhere. RSS 2.0 makes an item's title
/// optional when it has a description, and feeds do publish link-only items; dropping them loses
/// news that feedparser and Miniflux both keep.
/// </summary>
internal static class DerivedTitle
{
    /// <summary>The longest derived title, ellipsis included: a headline, not the summary again.</summary>
    public const int MaxLength = 80;

    /// <summary>The summary's first words, else the URL's last path segment as words, else its host.</summary>
    /// <param name="summary">The entry's summary, already plain text.</param>
    /// <param name="url">The entry's canonical absolute http(s) URL.</param>
    public static string For(string? summary, string url) => FromText(summary) ?? FromUrl(url);

    /// <summary>The URL's last non-empty path segment, unescaped, with its separators as spaces and its file extension dropped; else the host.</summary>
    public static string FromUrl(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            return Cut(url);
        }

        var segments = uri.AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (segments.Length > 0)
        {
            var name = WithoutExtension(Uri.UnescapeDataString(segments[^1]));
            var words = FromText(name.Replace('-', ' ').Replace('_', ' '));
            if (words is not null)
            {
                return words;
            }
        }
        return uri.IdnHost;
    }

    /// <summary><paramref name="text"/> on one line, cut at a word boundary to <see cref="MaxLength"/>; null when it has no words.</summary>
    public static string? FromText(string? text)
    {
        if (text is null)
        {
            return null;
        }

        // A percent-escaped segment can carry control characters; a title has none.
        var line = HtmlText.NormalizeWhitespace(WithoutControlCharacters(text));
        return line.Length == 0 ? null : Cut(line);
    }

    private static string Cut(string line)
    {
        if (line.Length <= MaxLength)
        {
            return line;
        }

        // One character is kept for the ellipsis. A word longer than half the room is cut inside
        // rather than leaving a title of two words.
        var room = MaxLength - 1;
        var space = line.LastIndexOf(' ', room);
        var end = space > room / 2 ? space : room;
        if (char.IsHighSurrogate(line[end - 1]))
        {
            end--;
        }
        return string.Concat(line.AsSpan(0, end).TrimEnd(" ,;:"), "…");
    }

    // "q3-results.html" → "q3-results"; a dot followed by something other than a short name with a
    // letter ("version-2.5", "u.s.-jobs") is part of the words.
    private static string WithoutExtension(string name)
    {
        var dot = name.LastIndexOf('.');
        if (dot <= 0)
        {
            return name;
        }

        // All letters and digits, at least one letter.
        var extension = name.AsSpan(dot + 1);
        var isExtension = extension.Length is >= 1 and <= 5
            && !extension.ContainsAnyExcept(Alphanumerics)
            && extension.ContainsAnyExcept(Digits);
        return isExtension ? name[..dot] : name;
    }

    private static readonly SearchValues<char> Alphanumerics =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");

    private static readonly SearchValues<char> Digits = SearchValues.Create("0123456789");

    private static string WithoutControlCharacters(string text)
    {
        if (!text.AsSpan().ContainsAnyInRange('\0', '\u001f') && !text.AsSpan().ContainsAnyInRange('\u007f', '\u009f'))
        {
            return text;
        }

        var builder = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            builder.Append(char.IsControl(c) ? ' ' : c);
        }
        return builder.ToString();
    }
}
