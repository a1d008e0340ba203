using System.Globalization;
using System.Text;
using System.Xml;

namespace Finstage.FeedServer.Feeds;

/// <summary>Writes a snapshot as RSS 2.0 in the shape of the site it imitates, quirks included.</summary>
internal static class FeedWriter
{
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    public static byte[] Write(FeedSnapshot snapshot, Uri articleBase) =>
        snapshot.Feed.Source == FeedCatalog.Yahoo ? WriteYahoo(snapshot, articleBase) : WriteInvesting(snapshot, articleBase);

    public static Uri ArticleUrl(FeedCatalog.Feed feed, NewsItem item, Uri articleBase)
    {
        var path = $"articles/{feed.Source}/{Uri.EscapeDataString(feed.Symbol)}/{item.Sequence.ToString(CultureInfo.InvariantCulture)}/{item.Slug}";
        if (feed.Source != FeedCatalog.Yahoo)
        {
            return new Uri(articleBase, path);
        }
        // Yahoo tags every link with ?.tsrc=rss, appended with & when the link has a query of its own.
        var query = item.Sequence % 3 == 0 ? "?src=finstage&.tsrc=rss" : "?.tsrc=rss";
        return new Uri(articleBase, path + ".html" + query);
    }

    /// <summary>
    /// Yahoo's headline feed: children in alphabetical order (description, guid, link, pubDate, title), RFC 822 dates
    /// with <c>+0000</c>, a UUID guid that is not a permalink, and the channel's own title and link after the items.
    /// </summary>
    private static byte[] WriteYahoo(FeedSnapshot snapshot, Uri articleBase)
    {
        var feed = snapshot.Feed;
        return Document("    ", standalone: true, xml =>
        {
            xml.WriteElementString("copyright", "Invented sample news from Finstage.FeedServer; not real reporting.");
            xml.WriteElementString("description", $"Latest Financial News for {feed.Symbol}");
            foreach (var item in snapshot.Items)
            {
                xml.WriteStartElement("item");
                xml.WriteElementString("description", item.Summary);
                xml.WriteStartElement("guid");
                xml.WriteAttributeString("isPermaLink", "false");
                xml.WriteString(item.Guid.ToString("D"));
                xml.WriteEndElement();
                xml.WriteElementString("link", ArticleUrl(feed, item, articleBase).AbsoluteUri);
                xml.WriteElementString("pubDate", item.PublishedAt.UtcDateTime.ToString("ddd, dd MMM yyyy HH:mm:ss '+0000'", CultureInfo.InvariantCulture));
                xml.WriteElementString("title", item.Title);
                xml.WriteEndElement();
            }
            xml.WriteElementString("language", "en-US");
            xml.WriteElementString("lastBuildDate", snapshot.LastModified.UtcDateTime.ToString("ddd, dd MMM yyyy HH:mm:ss '+0000'", CultureInfo.InvariantCulture));
            xml.WriteElementString("link", new Uri(articleBase, "quote/" + Uri.EscapeDataString(feed.Symbol)).AbsoluteUri);
            xml.WriteElementString("title", $"Finstage sample: {feed.Symbol} News");
        });
    }

    /// <summary>
    /// Investing.com's feeds: a channel with only title and link, then items led by an image enclosure, with a
    /// zone-less <c>yyyy-MM-dd HH:mm:ss</c> date (UTC), an author, and neither guid nor description.
    /// </summary>
    private static byte[] WriteInvesting(FeedSnapshot snapshot, Uri articleBase)
    {
        var feed = snapshot.Feed;
        return Document("  ", standalone: false, xml =>
        {
            xml.WriteElementString("title", feed.Name);
            xml.WriteElementString("link", articleBase.AbsoluteUri.TrimEnd('/'));
            foreach (var item in snapshot.Items)
            {
                xml.WriteStartElement("item");
                xml.WriteStartElement("enclosure");
                xml.WriteAttributeString("url", new Uri(articleBase, $"images/news/{item.ImageId}_M.jpg").AbsoluteUri);
                xml.WriteAttributeString("length", item.ImageBytes.ToString(CultureInfo.InvariantCulture));
                xml.WriteAttributeString("type", "image/jpeg");
                xml.WriteEndElement();
                xml.WriteElementString("title", item.Title);
                xml.WriteElementString("pubDate", item.PublishedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture));
                xml.WriteElementString("author", item.Author);
                xml.WriteElementString("link", ArticleUrl(feed, item, articleBase).AbsoluteUri);
                xml.WriteEndElement();
            }
        });
    }

    /// <summary>The start of a real feed cut off inside its first item, with nothing complete a reader could keep.</summary>
    public static byte[] Truncated(FeedSnapshot snapshot, Uri articleBase)
    {
        var full = Utf8.GetString(Write(snapshot, articleBase));
        var firstItem = full.IndexOf("<item>", StringComparison.Ordinal);
        var firstItemEnd = full.IndexOf("</item>", firstItem, StringComparison.Ordinal);
        // Channel elements before the first item (Investing's title) are left out too: they alone would make the
        // document "a feed with no items" rather than a broken one.
        var head = full[..full.IndexOf("<channel>", StringComparison.Ordinal)] + "<channel>\n";
        return Utf8.GetBytes(head + full[firstItem..(firstItem + ((firstItemEnd - firstItem) / 2))]);
    }

    private static byte[] Document(string indent, bool standalone, Action<XmlWriter> writeChannel)
    {
        using var buffer = new MemoryStream();
        var settings = new XmlWriterSettings { Encoding = Utf8, Indent = true, IndentChars = indent, NewLineChars = "\n" };
        using (var xml = XmlWriter.Create(buffer, settings))
        {
            if (standalone)
            {
                xml.WriteStartDocument(standalone: true);
            }
            else
            {
                xml.WriteStartDocument();
            }
            xml.WriteStartElement("rss");
            xml.WriteAttributeString("version", "2.0");
            xml.WriteStartElement("channel");
            writeChannel(xml);
            xml.WriteEndElement();
            xml.WriteEndElement();
            xml.WriteEndDocument();
        }
        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }
}
