using BenchmarkDotNet.Attributes;
using Finstage.Crawler.Parsing;

namespace Finstage.Bench.Micro;

/// <summary>The crawler's feed parser on the shapes it meets: one benchmark per fixture of its tests.</summary>
public class FeedParsingBenchmarks
{
    private readonly FeedParser _parser = new();
    private byte[] _content = [];

    public static IEnumerable<string> Fixtures =>
    [
        "yahoo-child-order.xml", "investing-zoneless.xml", "cnbc-dates.xml", "rss10-rdf.xml", "atom03.xml",
        "atom-escaped-html.xml", "latin1-declared.xml", "html-entities.xml", "xml-base.xml", "pretty-links.xml",
    ];

    [ParamsSource(nameof(Fixtures))]
    public string Fixture { get; set; } = "";

    [GlobalSetup]
    public void Load() => _content = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Fixtures", Fixture));

    [Benchmark]
    public int Parse() => _parser.Parse(_content, "application/rss+xml").Feed?.Items.Count ?? -1;
}
