using Finstage.Contracts;

namespace Finstage.Crawler.Parsing;

/// <summary>Reads an RSS 0.9x/1.0/2.0 or Atom 0.3/1.0 document into a <see cref="ParsedFeed"/>, safely and forgivingly.</summary>
/// <remarks>Bytes are decoded (<see cref="FeedDecoder"/>), common faults repaired (<see cref="XmlPreprocessor"/>),
/// then read by an <see cref="System.Xml.XmlReader"/> with DTDs prohibited and no resolver into a tree that keeps
/// whatever was complete when a document breaks off. Elements are looked up by name, never by position.</remarks>
public sealed class FeedParser(FeedParserOptions? options = null)
{
    private readonly FeedParserOptions _options = options ?? new FeedParserOptions();

    /// <summary>Parses a stream, reading no more than the size limit (plus one byte to know it was exceeded).</summary>
    public FeedParseResult Parse(Stream stream, string? contentType = null, Uri? documentUri = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var buffer = new MemoryStream();
        var chunk = new byte[81_920];
        int read;
        while ((read = stream.Read(chunk, 0, chunk.Length)) > 0)
        {
            if (buffer.Length + read > _options.MaxBytes)
            {
                return FeedParseResult.TooLarge($"more than {_options.MaxBytes} bytes");
            }

            buffer.Write(chunk, 0, read);
        }

        return Parse(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), contentType, documentUri);
    }

    /// <param name="contentType">The HTTP Content-Type, whose charset outranks the XML declaration.</param>
    /// <param name="documentUri">Where the document came from; the base for relative links.</param>
    public FeedParseResult Parse(ReadOnlySpan<byte> content, string? contentType = null, Uri? documentUri = null) =>
        ParseWithin(content, contentType, documentUri, CancellationToken.None);

    /// <summary>Parses as <see cref="Parse(ReadOnlySpan{byte}, string?, Uri?)"/> does, until <paramref name="budget"/> is cancelled.</summary>
    /// <param name="budget">Looked at every 64 K characters, every 4 K nodes and every item: the crawl's time budget.
    /// Every stage is linear in the document, so this bounds the time, not the complexity.</param>
    /// <exception cref="OperationCanceledException">When <paramref name="budget"/> is cancelled before the parse ends.</exception>
    public FeedParseResult ParseWithin(ReadOnlySpan<byte> content, string? contentType, Uri? documentUri, CancellationToken budget)
    {
        var cancellationToken = budget;
        if (content.Length > _options.MaxBytes)
        {
            return FeedParseResult.TooLarge($"{content.Length} bytes, more than the limit of {_options.MaxBytes}");
        }

        var warnings = new List<string>();
        var text = FeedDecoder.Decode(content, contentType, warnings);
        cancellationToken.ThrowIfCancellationRequested();
        var prepared = XmlPreprocessor.Prepare(text, _options, warnings, cancellationToken);
        if (prepared.Failure is not null)
        {
            return prepared.Failure;
        }

        var (root, error) = FeedNode.Read(prepared.Text!, documentUri, _options.MaxDepth, cancellationToken);
        if (root is null)
        {
            return FeedParseResult.ParseError($"not XML: {OneLine(error?.Message ?? "no root element")}");
        }

        if (error is not null)
        {
            warnings.Add($"not well-formed XML; kept what was complete before line {error.LineNumber}: {OneLine(error.Message)}");
        }

        var feed = Recognise(root, warnings, documentUri, cancellationToken);
        if (!feed.Succeeded)
        {
            return feed;
        }

        if (error is not null && feed.Feed.Entries.Count == 0 && feed.Feed.Title is null && feed.Feed.Link is null)
        {
            return FeedParseResult.ParseError($"not well-formed XML and nothing recoverable: {OneLine(error.Message)}");
        }

        return error is null ? feed : FeedParseResult.Success(feed.Feed with { WellFormed = false });
    }

    private static FeedParseResult Recognise(FeedNode root, List<string> warnings, Uri? documentUri, CancellationToken cancellationToken)
    {
        switch (root.LocalName)
        {
            case "rss" or "channel":
                return FeedParseResult.Success(RssMapper.Map(root, RssVersion(root.Attribute("version")), warnings, documentUri, cancellationToken));
            case "RDF":
                var declares090 = root.DeclaresNamespace(Namespaces.Rss090);
                var rdfFormat = declares090 || root.Elements.Any(e => e.Namespace == Namespaces.Rss090) ? FeedFormat.Rss090 : FeedFormat.Rss10;
                var hasContent = root.Elements.Any(e => e.LocalName is "channel" or "item")
                    || declares090 || root.DeclaresNamespace(Namespaces.Rss10);
                return hasContent
                    ? FeedParseResult.Success(RssMapper.Map(root, rdfFormat, warnings, documentUri, cancellationToken))
                    : FeedParseResult.NotAFeed("an RDF document with no channel or items");
            case "feed":
                var atom03 = root.Namespace == Namespaces.Atom03
                    || (root.Namespace != Namespaces.Atom10 && (root.Attribute("version")?.StartsWith("0.", StringComparison.Ordinal) ?? false));
                return FeedParseResult.Success(AtomMapper.Map(root, atom03 ? FeedFormat.Atom03 : FeedFormat.Atom10, warnings, documentUri, cancellationToken));
            case "urlset" or "sitemapindex":
                return FeedParseResult.NotAFeed($"a sitemap (<{root.LocalName}> root element), not RSS or Atom");
            default:
                return FeedParseResult.NotAFeed($"root element <{root.LocalName}> is not RSS, RDF or Atom");
        }
    }

    private static FeedFormat RssVersion(string? version) => version?.Trim() switch
    {
        "0.90" or "0.9" => FeedFormat.Rss090,
        "0.91" => FeedFormat.Rss091,
        "0.92" => FeedFormat.Rss092,
        "0.93" => FeedFormat.Rss093,
        "0.94" => FeedFormat.Rss094,
        { } v when v.StartsWith('2') => FeedFormat.Rss20,
        _ => FeedFormat.Rss,
    };

    private static string OneLine(string message) => HtmlText.NormalizeWhitespace(message);

    /// <summary>Turns entries into publishable articles: an http(s) link, one per canonical URL, and a title (derived when the entry has none).</summary>
    internal static ParsedFeed Build(FeedFormat format, string? title, string? link, List<FeedEntry> entries, List<string> warnings)
    {
        // Entries without a link stay in Entries (the caller can count them) but are not articles:
        // without one there is nothing to key, dedupe or open. An entry with a link is news even
        // without a title (RSS 2.0 allows an item of description only); it gets one from its
        // summary or URL, marked as derived.
        var items = new List<NewsArticle>(entries.Count);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            if (entry.Url is null || !seen.Add(entry.Url))
            {
                continue;
            }

            var titleDerived = entry.Title is null;
            var itemTitle = entry.Title ?? DerivedTitle.For(entry.Summary, entry.Url);
            items.Add(new NewsArticle(entry.Url, itemTitle, entry.Summary, entry.PublishedAt, entry.Author,
                entry.Publisher, entry.ImageUrl, entry.ExternalId, titleDerived));
        }

        return new ParsedFeed(format, title, link, entries, items, warnings);
    }
}
