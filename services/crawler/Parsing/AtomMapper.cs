namespace Finstage.Crawler.Parsing;

/// <summary>Maps an Atom 0.3 or 1.0 document tree onto entries.</summary>
internal static class AtomMapper
{
    public static ParsedFeed Map(FeedNode root, FeedFormat format, List<string> warnings, Uri? documentUri, CancellationToken cancellationToken)
    {
        var rootNs = root.Namespace;
        Func<string, bool> atom = ns => ns == rootNs || ns is Namespaces.Atom10 or Namespaces.Atom03;

        var title = Fields.AtomText(Fields.First(root, "title", atom));
        var link = AlternateLink(root, atom, documentUri);
        var fallbackBase = documentUri ?? (link is null ? null : new Uri(link));
        var feedAuthor = Authors(root, atom);

        var entries = new List<FeedEntry>();
        var incomplete = 0;
        foreach (var entry in Fields.All(root, "entry", atom))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!entry.Complete)
            {
                incomplete++;
                continue;
            }

            entries.Add(Entry(entry, atom, fallbackBase, feedAuthor));
        }

        if (incomplete > 0)
        {
            warnings.Add($"{incomplete} incomplete entry(ies) at the end of a broken document dropped");
        }

        return FeedParser.Build(format, title, link, entries, warnings);
    }

    private static FeedEntry Entry(FeedNode entry, Func<string, bool> atom, Uri? fallbackBase, string? feedAuthor)
    {
        var content = Fields.First(entry, "content", atom);
        var contentIsText = content?.Attribute("src") is null;

        var summary = Fields.AtomText(Fields.First(entry, "summary", atom))
            ?? (contentIsText ? Fields.AtomText(content) : null)
            ?? Fields.MediaDescription(entry);

        // Atom 1.0 "published", Atom 0.3 "issued"/"created"; the last-modified forms only when nothing else is given.
        var published = Fields.Date(Fields.First(entry, "published", atom))
            ?? Fields.Date(Fields.First(entry, "issued", atom))
            ?? Fields.Date(Fields.First(entry, "created", atom))
            ?? Fields.Date(Fields.First(entry, "updated", atom))
            ?? Fields.Date(Fields.First(entry, "modified", atom))
            ?? Fields.Date(Fields.First(entry, "date", Fields.Exactly(Namespaces.Dc)));

        var source = Fields.First(entry, "source", atom);
        return new FeedEntry(
            AlternateLink(entry, atom, fallbackBase),
            Fields.AtomText(Fields.First(entry, "title", atom)),
            summary,
            published,
            Authors(entry, atom) ?? Authors(source, atom) ?? feedAuthor,
            Fields.AtomText(Fields.First(source, "title", atom)),
            Fields.Image(entry, fallbackBase),
            Fields.PlainValue(Fields.First(entry, "id", atom)));
    }

    private static string? AlternateLink(FeedNode node, Func<string, bool> atom, Uri? fallbackBase)
    {
        foreach (var link in Fields.All(node, "link", atom))
        {
            var rel = link.Attribute("rel")?.Trim() ?? "alternate";
            if (rel is "alternate" or "http://www.iana.org/assignments/relation/alternate"
                && Fields.Link(link.Attribute("href") ?? link.OwnText, link, fallbackBase) is { } url)
            {
                return url;
            }
        }

        return null;
    }

    private static string? Authors(FeedNode? node, Func<string, bool> atom) =>
        Fields.JoinDistinct(Fields.All(node, "author", atom)
            .Select(a => Fields.PlainValue(Fields.First(a, "name", atom)) ?? Fields.PlainValue(Fields.First(a, "email", atom))));
}
