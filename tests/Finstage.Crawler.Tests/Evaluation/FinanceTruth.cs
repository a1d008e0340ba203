using System.Globalization;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Finstage.Crawler.Parsing;

namespace Finstage.Crawler.Tests.Evaluation;

/// <summary>The ground truth for one finance capture, read independently of the parser under test.</summary>
/// <param name="DatesByUrl">Each item's instant, keyed by its canonical link; only items whose feed gives a date.</param>
internal sealed record FinanceTruth(string RelativePath, byte[] Content, bool IsFeed, int ItemCount, IReadOnlyDictionary<string, DateTimeOffset> DatesByUrl)
{
    /// <summary>Reads the captures with LINQ to XML and the BCL's own date parsing, so a bug in the crawler's
    /// parser cannot agree with itself. The formats these captures use are all ones the BCL reads once a
    /// "+0000" offset is given its colon and a zone-less date is taken as UTC.</summary>
    public static IReadOnlyList<FinanceTruth> Load(string financeFolder) =>
        [.. Directory.EnumerateFiles(financeFolder, "*.xml", SearchOption.AllDirectories)
            .Order(StringComparer.Ordinal)
            .Select(path => Read(financeFolder, path))];

    public static FinanceTruth Load(string financeFolder, string relativePath) =>
        Read(financeFolder, Path.Combine(financeFolder, relativePath));

    public static DateTimeOffset? ReferenceDate(string raw)
    {
        var text = Regex.Replace(raw.Trim(), @"([+-]\d{2})(\d{2})$", "$1:$2");
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AllowWhiteSpaces, out var value)
            ? value.ToUniversalTime()
            : null;
    }

    private static FinanceTruth Read(string root, string path)
    {
        var bytes = File.ReadAllBytes(path);
        var relative = Path.GetRelativePath(root, path).Replace('\\', '/');
        var doc = XDocument.Load(new MemoryStream(bytes));
        var rootName = doc.Root!.Name.LocalName;
        if (rootName is not ("rss" or "feed"))
        {
            return new FinanceTruth(relative, bytes, false, 0, new Dictionary<string, DateTimeOffset>());
        }

        var items = doc.Descendants().Where(e => e.Name.LocalName is "item" or "entry").ToList();
        var dates = new Dictionary<string, DateTimeOffset>();
        foreach (var item in items)
        {
            var linkElement = item.Elements().FirstOrDefault(e => e.Name.LocalName == "link");
            var link = linkElement?.Attribute("href")?.Value ?? linkElement?.Value;
            var rawDate = item.Elements().FirstOrDefault(e => e.Name.LocalName is "pubDate" or "published" or "updated")?.Value;
            if (UrlCanonicalizer.Canonicalize(link) is { } url && rawDate is not null && ReferenceDate(rawDate) is { } date)
            {
                dates[url] = date;
            }
        }

        return new FinanceTruth(relative, bytes, true, items.Count, dates);
    }
}
