using System.Globalization;

namespace Finstage.Crawler.Parsing;

/// <summary>Maps an RSS 0.9x, 1.0 (RDF) or 2.0 document tree onto entries.</summary>
internal static class RssMapper
{
    private static readonly Func<string, bool> Dc = Fields.Exactly(Namespaces.Dc);
    private static readonly Func<string, bool> DcTerms = Fields.Exactly(Namespaces.DcTerms);
    private static readonly Func<string, bool> Atom = Fields.Exactly(Namespaces.Atom10);
    private static readonly Func<string, bool> Media = Namespaces.IsMedia;
    private static readonly Func<string, bool> Syndication = Fields.Exactly(Namespaces.Syndication);
    private const int MinutesInAYear = 365 * 24 * 60;

    public static ParsedFeed Map(FeedNode root, FeedFormat format, List<string> warnings, Uri? documentUri, CancellationToken cancellationToken)
    {
        Func<string, bool> core = ns => Namespaces.IsRssCore(ns, root.Namespace);
        var channel = root.LocalName == "channel" ? root : Fields.First(root, "channel", core);
        var title = Fields.HtmlValue(Fields.First(channel, "title", core)) ?? Fields.HtmlValue(Fields.First(channel, "title", Dc));
        var link = ChannelLink(channel, core, documentUri);
        var fallbackBase = documentUri ?? (link is null ? null : new Uri(link));

        // RSS 0.9 and 1.0 put items beside the channel; 0.91–2.0 inside it. Some feeds mix the two.
        var itemNodes = Fields.All(channel, "item", core);
        if (channel != root)
        {
            itemNodes = itemNodes.Concat(Fields.All(root, "item", core));
        }

        var entries = new List<FeedEntry>();
        var incomplete = 0;
        foreach (var item in itemNodes)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!item.Complete)
            {
                incomplete++;
                continue;
            }

            entries.Add(Entry(item, core, fallbackBase));
        }

        if (incomplete > 0)
        {
            warnings.Add($"{incomplete} incomplete item(s) at the end of a broken document dropped");
        }

        return FeedParser.Build(format, title, link, entries, warnings) with
        {
            TimeToLive = TimeToLive(channel, core),
            UpdateInterval = UpdateInterval(channel),
        };
    }

    // Whole minutes (RSS 2.0); anything else, zero or negative says nothing. Capped at a year: beyond it the
    // number is a mistake, not a schedule, and a year already outlasts any poll interval.
    private static TimeSpan? TimeToLive(FeedNode? channel, Func<string, bool> core) =>
        int.TryParse(Fields.PlainValue(Fields.First(channel, "ttl", core)), NumberStyles.None, CultureInfo.InvariantCulture, out var minutes) && minutes > 0
            ? TimeSpan.FromMinutes(Math.Min(minutes, MinutesInAYear))
            : null;

    // RSS 1.0 syndication module: updates per period (frequency defaults to 1); no period, no hint.
    private static TimeSpan? UpdateInterval(FeedNode? channel)
    {
        var period = Fields.PlainValue(Fields.First(channel, "updatePeriod", Syndication))?.ToLowerInvariant() switch
        {
            "hourly" => TimeSpan.FromHours(1),
            "daily" => TimeSpan.FromDays(1),
            "weekly" => TimeSpan.FromDays(7),
            "monthly" => TimeSpan.FromDays(30),
            "yearly" => TimeSpan.FromDays(365),
            _ => (TimeSpan?)null,
        };
        if (period is null)
        {
            return null;
        }
        var frequency = int.TryParse(Fields.PlainValue(Fields.First(channel, "updateFrequency", Syndication)), NumberStyles.None, CultureInfo.InvariantCulture, out var perPeriod)
            && perPeriod > 0 ? perPeriod : 1;
        return period.Value / frequency;
    }

    private static string? ChannelLink(FeedNode? channel, Func<string, bool> core, Uri? documentUri)
    {
        if (channel is null)
        {
            return null;
        }

        var linkNode = Fields.First(channel, "link", core);
        if (linkNode is { Complete: true } && Fields.Link(linkNode.DeepText(), linkNode, documentUri) is { } link)
        {
            return link;
        }

        var alternate = Fields.All(channel, "link", Atom).FirstOrDefault(l => (l.Attribute("rel") ?? "alternate") == "alternate");
        return alternate is null ? null : Fields.Link(alternate.Attribute("href"), alternate, documentUri);
    }

    private static FeedEntry Entry(FeedNode item, Func<string, bool> core, Uri? fallbackBase)
    {
        var guidNode = Fields.First(item, "guid", core);
        var guid = Fields.PlainValue(guidNode);
        var about = item.Attribute("about", Namespaces.Rdf);

        var linkNode = Fields.First(item, "link", core);
        var url = linkNode is null ? null : Fields.Link(linkNode.DeepText(), linkNode, fallbackBase);
        var alternate = Fields.All(item, "link", Atom).FirstOrDefault(l => (l.Attribute("rel") ?? "alternate") == "alternate");
        url ??= alternate is null ? null : Fields.Link(alternate.Attribute("href"), alternate, fallbackBase);

        // A guid is a permalink unless it says otherwise (RSS 2.0); RDF items name their URL in rdf:about.
        var guidIsPermaLink = !string.Equals(guidNode?.Attribute("isPermaLink")?.Trim(), "false", StringComparison.OrdinalIgnoreCase);
        if (url is null && guidNode is not null && guidIsPermaLink)
        {
            url = Fields.Link(guid, guidNode, fallbackBase);
        }

        url ??= about is null ? null : Fields.Link(about, item, fallbackBase);

        var title = Fields.HtmlValue(Fields.First(item, "title", core))
            ?? Fields.HtmlValue(Fields.First(item, "title", Dc))
            ?? Fields.HtmlValue(Fields.First(item, "title", Media))
            ?? Fields.HtmlValue(Fields.First(Fields.First(item, "group", Media), "title", Media));

        var summary = Fields.HtmlValue(Fields.First(item, "description", core))
            ?? Fields.HtmlValue(Fields.First(item, "description", Dc))
            ?? Fields.HtmlValue(Fields.First(item, "encoded", Fields.Exactly(Namespaces.Content)))
            ?? Fields.MediaDescription(item);

        var published = Fields.Date(Fields.First(item, "pubDate", core))
            ?? Fields.Date(Fields.First(item, "date", Dc))
            ?? Fields.Date(Fields.First(item, "issued", DcTerms))
            ?? Fields.Date(Fields.First(item, "created", DcTerms))
            ?? Fields.Date(Fields.First(item, "published", Atom))
            ?? Fields.Date(Fields.First(item, "modified", DcTerms))
            ?? Fields.Date(Fields.First(item, "updated", Atom));

        var author = Fields.Author(Fields.PlainValue(Fields.First(item, "author", core)))
            ?? Fields.JoinDistinct(Fields.All(item, "creator", Dc).Select(Fields.PlainValue))
            ?? Fields.PlainValue(Fields.First(item, "author", Fields.Exactly(Namespaces.Itunes)));

        var publisher = Fields.PlainValue(Fields.First(item, "source", core))
            ?? Fields.PlainValue(Fields.First(item, "publisher", Dc));

        return new FeedEntry(url, title, summary, published, author, publisher, Fields.Image(item, fallbackBase), guid ?? about);
    }
}
