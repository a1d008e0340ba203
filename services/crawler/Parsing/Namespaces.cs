namespace Finstage.Crawler.Parsing;

/// <summary>The XML namespaces feeds use, by their usual prefix.</summary>
internal static class Namespaces
{
    public const string Atom10 = "http://www.w3.org/2005/Atom";
    public const string Atom03 = "http://purl.org/atom/ns#";
    public const string Rss10 = "http://purl.org/rss/1.0/";
    public const string Rss090 = "http://my.netscape.com/rdf/simple/0.9/";
    public const string Rdf = "http://www.w3.org/1999/02/22-rdf-syntax-ns#";
    public const string Dc = "http://purl.org/dc/elements/1.1/";
    public const string DcTerms = "http://purl.org/dc/terms/";
    public const string Content = "http://purl.org/rss/1.0/modules/content/";
    public const string Media = "http://search.yahoo.com/mrss/";
    public const string Itunes = "http://www.itunes.com/dtds/podcast-1.0.dtd";
    public const string Syndication = "http://purl.org/rss/1.0/modules/syndication/";

    private static readonly HashSet<string> Extensions = new(StringComparer.Ordinal)
    {
        Atom10, Atom03, Rdf, Dc, DcTerms, Content, Media, Media.TrimEnd('/'), Itunes, Syndication,
    };

    public static bool IsMedia(string ns) => ns is Media or "http://search.yahoo.com/mrss";

    /// <summary>Whether an element in this namespace can be a core RSS element (title, link, item…).</summary>
    /// <remarks>RSS core elements come in no namespace, the RSS 0.9 or 1.0 namespace, or whatever default
    /// namespace a publisher chose for the whole document (the root's); extension namespaces never count.</remarks>
    public static bool IsRssCore(string ns, string rootNamespace) =>
        ns.Length == 0 || ns is Rss10 or Rss090 || (ns == rootNamespace && !Extensions.Contains(ns));
}
