using BenchmarkDotNet.Attributes;
using Finstage.Crawler.Parsing;

namespace Finstage.Bench.Micro;

/// <summary>URL canonicalisation, run once for every item of every feed.</summary>
public class UrlCanonicalizerBenchmarks
{
    private static readonly Uri Base = new("https://finance.yahoo.com/rss/");

    [Params(
        "https://finance.yahoo.com/news/apple-earnings-123456789.html?.tsrc=rss",
        "HTTPS://WWW.Example.COM:443/a/./b/../c/story.html?utm_source=feed&utm_medium=rss&id=42&fbclid=x#top",
        "/m/4f3a2b1c/stocks-close-mixed.html?guccounter=1",
        "https://www.investing.com/news/economy/fed-holds-rates-3456789")]
    public string Url { get; set; } = "";

    [Benchmark]
    public string? Canonicalize() => UrlCanonicalizer.Canonicalize(Url, Base);
}
