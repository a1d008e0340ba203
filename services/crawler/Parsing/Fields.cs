using System.Text;
using System.Text.RegularExpressions;

namespace Finstage.Crawler.Parsing;

/// <summary>Element lookups and value clean-up shared by the RSS and Atom mappers.</summary>
internal static partial class Fields
{
    public static FeedNode? First(FeedNode? parent, string localName, Func<string, bool> inNamespace) =>
        parent?.Elements.FirstOrDefault(e => e.LocalName.Equals(localName, StringComparison.OrdinalIgnoreCase) && inNamespace(e.Namespace));

    public static IEnumerable<FeedNode> All(FeedNode? parent, string localName, Func<string, bool> inNamespace) =>
        parent?.Elements.Where(e => e.LocalName.Equals(localName, StringComparison.OrdinalIgnoreCase) && inNamespace(e.Namespace)) ?? [];

    public static Func<string, bool> Exactly(string ns) => candidate => candidate == ns;

    /// <summary>Text that may hold HTML (RSS titles and descriptions): escaped HTML is reduced to text, and
    /// markup left unescaped in the XML ("naked" HTML) contributes its text.</summary>
    public static string? HtmlValue(FeedNode? node)
    {
        // Text cut off by the end of a broken document may be cut mid-word; only complete elements count.
        if (node is not { Complete: true })
        {
            return null;
        }

        var text = node.HasElements ? HtmlText.NormalizeWhitespace(node.DeepText()) : HtmlText.ToPlainText(node.OwnText);
        return text.Length == 0 ? null : text;
    }

    public static string? MediaDescription(FeedNode entry) =>
        HtmlValue(First(entry, "description", Namespaces.IsMedia))
        ?? HtmlValue(First(First(entry, "group", Namespaces.IsMedia), "description", Namespaces.IsMedia));

    /// <summary>Text taken literally (identifiers, dates, names): only whitespace is normalised.</summary>
    public static string? PlainValue(FeedNode? node)
    {
        if (node is not { Complete: true })
        {
            return null;
        }

        var text = HtmlText.NormalizeWhitespace(node.DeepText());
        return text.Length == 0 ? null : text;
    }

    /// <summary>A link resolved against the element's xml:base (or the document's address, or the feed's link).</summary>
    public static string? Link(string? raw, FeedNode node, Uri? fallbackBase) =>
        UrlCanonicalizer.Canonicalize(raw, node.BaseUri ?? fallbackBase);

    public static DateTimeOffset? Date(FeedNode? node) => FeedDates.Parse(PlainValue(node));

    /// <summary>"jane@example.com (Jane Doe)", the RSS 2.0 author form, becomes "Jane Doe".</summary>
    public static string? Author(string? author)
    {
        if (author is null)
        {
            return null;
        }

        var m = EmailWithName().Match(author);
        return m.Success ? m.Groups[1].Value.Trim() : author;
    }

    public static string? JoinDistinct(IEnumerable<string?> values)
    {
        var list = values.Where(v => !string.IsNullOrEmpty(v)).Distinct(StringComparer.Ordinal).ToList();
        return list.Count == 0 ? null : string.Join(", ", list);
    }

    /// <summary>The entry's picture: media:content image, then media:thumbnail, then an image enclosure.</summary>
    public static string? Image(FeedNode entry, Uri? fallbackBase)
    {
        var media = entry.Elements.Where(e => Namespaces.IsMedia(e.Namespace)).ToList();
        foreach (var group in media.Where(e => e.LocalName == "group").ToList())
        {
            media.AddRange(group.Elements.Where(e => Namespaces.IsMedia(e.Namespace)));
        }

        var candidates = media.Where(e => e.LocalName == "content" && IsImage(e.Attribute("type"), e.Attribute("medium"), e.Attribute("url")))
            .Select(e => (Node: e, Url: e.Attribute("url")))
            .Concat(media.Where(e => e.LocalName == "thumbnail").Select(e => (Node: e, Url: e.Attribute("url"))))
            .Concat(entry.Elements
                .Where(e => e.LocalName == "enclosure" && (e.Attribute("type")?.StartsWith("image/", StringComparison.OrdinalIgnoreCase) ?? false))
                .Select(e => (Node: e, Url: e.Attribute("url"))))
            .Concat(entry.Elements
                .Where(e => e.LocalName == "link" && e.Attribute("rel") == "enclosure"
                    && (e.Attribute("type")?.StartsWith("image/", StringComparison.OrdinalIgnoreCase) ?? false))
                .Select(e => (Node: e, Url: e.Attribute("href"))));

        foreach (var (node, url) in candidates)
        {
            if (Link(url, node, fallbackBase) is { } image)
            {
                return image;
            }
        }

        return null;
    }

    /// <summary>Atom 0.3 and 1.0 text constructs: text, html (escaped), xhtml (inline), base64.</summary>
    public static string? AtomText(FeedNode? node)
    {
        if (node is not { Complete: true })
        {
            return null;
        }

        var type = (node.Attribute("type") ?? "").Trim().ToLowerInvariant();
        var mode = (node.Attribute("mode") ?? "").Trim().ToLowerInvariant();
        var html = type is "html" or "text/html" || mode == "escaped";
        string text;
        if (mode == "base64" || IsBinaryType(type))
        {
            var decoded = FromBase64(node.OwnText);
            if (decoded is null)
            {
                return null;
            }

            // Whatever a binary payload declares, the text is shown to people: reduce any markup in it.
            text = HtmlText.ToPlainText(decoded);
        }
        else if (node.HasElements)
        {
            text = HtmlText.NormalizeWhitespace(node.DeepText());
        }
        else
        {
            text = html ? HtmlText.ToPlainText(node.OwnText) : HtmlText.NormalizeWhitespace(node.OwnText);
        }

        return text.Length == 0 ? null : text;
    }

    private static bool IsBinaryType(string type) =>
        type.Contains('/', StringComparison.Ordinal)
        && !type.StartsWith("text/", StringComparison.Ordinal)
        && !type.EndsWith("xml", StringComparison.Ordinal);

    private static string? FromBase64(string text)
    {
        var compact = new string(text.Where(c => !char.IsWhiteSpace(c)).ToArray());
        var buffer = new byte[compact.Length];
        return Convert.TryFromBase64String(compact, buffer, out var written)
            ? new UTF8Encoding(false, false).GetString(buffer, 0, written)
            : null;
    }

    private static bool IsImage(string? type, string? medium, string? url)
    {
        if (medium is not null)
        {
            return medium.Equals("image", StringComparison.OrdinalIgnoreCase);
        }

        if (type is not null)
        {
            return type.StartsWith("image/", StringComparison.OrdinalIgnoreCase);
        }

        return url is not null && ImageExtension().IsMatch(url);
    }

    [GeneratedRegex(@"^\s*[^\s@()]+@[^\s@()]+\s*\((.+)\)\s*$")]
    private static partial Regex EmailWithName();

    [GeneratedRegex(@"\.(jpe?g|png|gif|webp|avif)(\?|$)", RegexOptions.IgnoreCase)]
    private static partial Regex ImageExtension();
}
