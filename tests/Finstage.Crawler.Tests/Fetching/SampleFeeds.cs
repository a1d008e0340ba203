using System.Text;

namespace Finstage.Crawler.Tests.Fetching;

/// <summary>Small feeds written for these tests.</summary>
internal static class SampleFeeds
{
    public static string Rss(string symbol, int items = 2)
    {
        var builder = new StringBuilder("""<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Test feed</title><link>https://example.com/</link>""");
        for (var i = 1; i <= items; i++)
        {
            builder.Append(System.Globalization.CultureInfo.InvariantCulture,
                $"<item><title>{symbol} story {i}</title><link>https://example.com/{symbol}/{i}?utm_source=rss</link><pubDate>Fri, 14 Aug 2026 0{i}:00:00 GMT</pubDate></item>");
        }
        return builder.Append("</channel></rss>").ToString();
    }

    public static byte[] RssBytes(string symbol, int items = 2) => Encoding.UTF8.GetBytes(Rss(symbol, items));
}
