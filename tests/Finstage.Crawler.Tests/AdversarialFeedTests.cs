using System.Diagnostics;
using Finstage.Contracts;
using Finstage.Crawler.Parsing;
using Finstage.Testing;

namespace Finstage.Crawler.Tests;

/// <summary>
/// Issue 12, item 3: the parser's time is linear in the document whatever the document holds, so a hostile
/// 5 MB feed costs a small multiple of an ordinary one, and a parse stops when its token is cancelled.
/// </summary>
[Trait("Category", "Reliability")]
// Needs no server, but takes seconds to a minute (large documents, time budgets, waits): the full run only, not ./test.sh --fast.
[Trait("Lane", "Slow")]
public sealed class AdversarialFeedTests(ITestOutputHelper output)
{
    /// <summary>
    /// How many times longer than the benign feed, byte for byte, an adversarial document may take. The bench's
    /// target is 5 (<c>p11_parse_adversarial_vs_benign</c> ≥ 0.2); the slowest measured 2.7 there and 3.7–5.9 here,
    /// on 2 cores shared with other builds, where one preemption can double a measurement: hence 15.
    /// A rescan from every '&lt;', '&amp;' or '(' is not a small multiple: the document took 71 s of CPU
    /// where the benign feed takes well under 1 s, and several of these never finished within a minute.
    /// </summary>
    private const double MaxSlowdown = 15;

    private readonly FeedParser _parser = new();

    [Fact(Timeout = 900_000)]
    public void Parse_TakesASmallMultipleOfABenignFeedsTime_WhenTheDocumentIsAdversarial()
    {
        var benign = HostileFeeds.BenignFiveMegabytes();
        _parser.Parse(benign);
        var reference = SecondsPerMegabyte(benign, runs: 3);
        var slow = new List<string>();
        foreach (var (name, build) in HostileFeeds.Adversarial)
        {
            var document = build();
            document.Length.ShouldBeLessThanOrEqualTo(new FeedParserOptions().MaxBytes, name);
            var slowdown = SecondsPerMegabyte(document, runs: 2) / reference;
            output.WriteLine($"{name,-30} {document.Length / 1e6:0.00} MB  {slowdown,6:0.00} × benign");
            if (slowdown > MaxSlowdown)
            {
                slow.Add($"{name}: {slowdown:0.0} × benign");
            }
        }

        slow.ShouldBeEmpty();
    }

    [Fact(Timeout = 120_000)]
    public void Parse_FailsAsParseErrorInASmallMultipleOfABenignFeedsTime_WhenATitleHoldsOnePointSixMillionOpenTags()
    {
        // The document of the issue: 71 s of CPU before, when every '<' looked for its '>' to the end.
        var document = HostileFeeds.OpenTagsInTitle(1_600_000);
        var reference = SecondsPerMegabyte(HostileFeeds.BenignFiveMegabytes(), runs: 3);

        var slowdown = SecondsPerMegabyte(document, runs: 1) / reference;

        output.WriteLine($"{slowdown:0.00} × benign");
        _parser.Parse(document).Failure.ShouldBe(CrawlFailureReason.ParseError);
        slowdown.ShouldBeLessThan(MaxSlowdown);
    }

    [Fact(Timeout = 60_000)]
    public void Parse_ReturnsParseError_WhenAnElementHasMoreAttributesThanTheLimit()
    {
        var flood = HostileFeeds.Adversarial.Single(d => d.Name == "attribute-flood").Build();
        var many = HostileFeeds.Adversarial.Single(d => d.Name == "attributes-on-many-elements").Build();

        var refused = _parser.Parse(flood);
        var read = _parser.Parse(many);

        refused.Failure.ShouldBe(CrawlFailureReason.ParseError);
        refused.Detail.ShouldBe("an element with more than 1024 attributes");
        // A thousand on each of thousands of elements is within the limit, and cheap for the reader.
        read.Succeeded.ShouldBeTrue(read.ToString());
        read.Feed.Items.ShouldHaveSingleItem().Url.ShouldBe("https://adversarial.example.com/1");
    }

    [Fact(Timeout = 300_000)]
    public void Parse_ThrowsOperationCanceled_WhenItsTokenIsCancelledMidway()
    {
        // 20 MB (the cap raised) of ordinary items, timed whole; cancelled after a quarter of that, a parse is
        // surely still under way, and must stop at its next look at the token rather than finish.
        var parser = new FeedParser(new FeedParserOptions { MaxBytes = 32 * HostileFeeds.Megabyte });
        var document = HostileFeeds.BenignFeed(20 * HostileFeeds.Megabyte);
        parser.Parse(document).Succeeded.ShouldBeTrue();
        var whole = Stopwatch.StartNew();
        var items = parser.Parse(document).Feed!.Items.Count;
        whole.Stop();

        using var budget = new CancellationTokenSource(whole.Elapsed / 4);
        var cancelled = Stopwatch.StartNew();
        Should.Throw<OperationCanceledException>(() => parser.ParseWithin(document, null, null, budget.Token));

        output.WriteLine($"{items} items: whole parse {whole.Elapsed.TotalMilliseconds:0} ms, cancelled after {cancelled.Elapsed.TotalMilliseconds:0} ms");
    }

    // The fastest of a few parses, in seconds per megabyte; the parser's code is warmed up first.
    private double SecondsPerMegabyte(byte[] document, int runs)
    {
        _parser.Parse(HostileFeeds.ControlCharacters);
        var fastest = double.MaxValue;
        for (var i = 0; i < runs; i++)
        {
            var watch = Stopwatch.StartNew();
            _parser.Parse(document);
            fastest = Math.Min(fastest, watch.Elapsed.TotalSeconds);
        }

        return fastest / (document.Length / 1e6);
    }
}
