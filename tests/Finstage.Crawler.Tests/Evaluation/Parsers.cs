using System.ServiceModel.Syndication;
using System.Xml;
using CodeHollow.FeedReader;
using Finstage.Crawler.Parsing;

namespace Finstage.Crawler.Tests.Evaluation;

/// <summary>A feed parser under evaluation, adapted to <see cref="FeedView"/>.</summary>
internal interface IParserUnderTest
{
    string Name { get; }

    FeedView Parse(byte[] content, string? contentType);
}

/// <summary>The crawler's own parser.</summary>
internal sealed class OwnParser : IParserUnderTest
{
    private readonly FeedParser _parser = new();

    public string Name => "Finstage FeedParser";

    public FeedView Parse(byte[] content, string? contentType)
    {
        var result = _parser.Parse(content, contentType);
        if (!result.Succeeded)
        {
            return new FeedView(true, null, null, null, []);
        }

        var feed = result.Feed;
        return new FeedView(
            feed.Warnings.Count > 0,
            feed.Format.ToString().ToLowerInvariant(),
            feed.Title,
            feed.Link,
            [.. feed.Entries.Select(e => new EntryView(e.Title, e.Url, e.Summary, e.PublishedAt, e.Author, e.ExternalId))],
            TextIsPlain: true,
            Published: feed.Items.Count);
    }
}

/// <summary>System.ServiceModel.Syndication, reading through an XmlReader that ignores DTDs (its default prohibits them).</summary>
internal sealed class SyndicationParser : IParserUnderTest
{
    public string Name => "System.ServiceModel.Syndication 10.0.14";

    public FeedView Parse(byte[] content, string? contentType)
    {
        var settings = new XmlReaderSettings { DtdProcessing = DtdProcessing.Ignore, XmlResolver = null };
        using var stream = new MemoryStream(content);
        using var reader = XmlReader.Create(stream, settings);
        var version = new Atom10FeedFormatter().CanRead(reader) ? "atom10" : "rss20";
        var feed = SyndicationFeed.Load(reader);
        return new FeedView(
            false,
            version,
            feed.Title?.Text,
            Alternate(feed.Links),
            [.. feed.Items.Select(i => new EntryView(
                i.Title?.Text,
                Alternate(i.Links),
                i.Summary?.Text ?? (i.Content as TextSyndicationContent)?.Text,
                i.PublishDate != default ? i.PublishDate : i.LastUpdatedTime != default ? i.LastUpdatedTime : null,
                i.Authors.Select(a => a.Name ?? a.Email).FirstOrDefault(),
                i.Id))]);
    }

    private static string? Alternate(IEnumerable<SyndicationLink> links) =>
        links.FirstOrDefault(l => l.RelationshipType is null or "alternate")?.GetAbsoluteUri()?.ToString();
}

/// <summary>CodeHollow.FeedReader, given the raw bytes (it detects the encoding itself).</summary>
internal sealed class CodeHollowParser : IParserUnderTest
{
    public string Name => "CodeHollow.FeedReader 2.1.1";

    public FeedView Parse(byte[] content, string? contentType)
    {
        var feed = FeedReader.ReadFromByteArray(content);
        return new FeedView(
            feed.Type == FeedType.Unknown,
            feed.Type switch
            {
                FeedType.Atom => "atom10",
                FeedType.Rss_0_91 => "rss091",
                FeedType.Rss_0_92 => "rss092",
                FeedType.Rss_1_0 => "rss10",
                FeedType.Rss_2_0 or FeedType.MediaRss or FeedType.Rss => "rss20",
                _ => null,
            },
            feed.Title,
            feed.Link,
            [.. feed.Items.Select(i => new EntryView(
                i.Title,
                i.Link,
                i.Description ?? i.Content,
                i.PublishingDate is { } d ? new DateTimeOffset(d.Kind == DateTimeKind.Local ? d.ToUniversalTime() : DateTime.SpecifyKind(d, DateTimeKind.Utc)) : null,
                i.Author,
                i.Id))]);
    }
}
