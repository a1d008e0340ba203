namespace Finstage.Crawler.Parsing;

/// <summary>The syndication format and version a document was recognised as.</summary>
/// <remarks>Lower-cased, the names match the version strings of the Python feedparser project,
/// so results can be compared with its test corpus.</remarks>
public enum FeedFormat
{
    /// <summary>An RSS document whose version attribute is missing or unknown.</summary>
    Rss,
    Rss090,
    Rss091,
    Rss092,
    Rss093,
    Rss094,
    Rss10,
    Rss20,
    Atom03,
    Atom10,
}
