using System.Diagnostics.CodeAnalysis;
using Finstage.Contracts;

namespace Finstage.Crawler.Parsing;

/// <summary>Either a parsed feed or the reason, named as in <see cref="CrawlFailureReason"/>, why there is none.</summary>
public sealed class FeedParseResult
{
    private FeedParseResult(ParsedFeed? feed, CrawlFailureReason? failure, string? detail)
    {
        Feed = feed;
        Failure = failure;
        Detail = detail;
    }

    public ParsedFeed? Feed { get; }

    /// <summary>NotAFeed, ParseError or TooLarge when <see cref="Feed"/> is null.</summary>
    public CrawlFailureReason? Failure { get; }

    public string? Detail { get; }

    [MemberNotNullWhen(true, nameof(Feed))]
    [MemberNotNullWhen(false, nameof(Failure), nameof(Detail))]
    public bool Succeeded => Feed is not null;

    public static FeedParseResult Success(ParsedFeed feed) => new(feed, null, null);

    public static FeedParseResult NotAFeed(string detail) => new(null, CrawlFailureReason.NotAFeed, detail);

    public static FeedParseResult ParseError(string detail) => new(null, CrawlFailureReason.ParseError, detail);

    public static FeedParseResult TooLarge(string detail) => new(null, CrawlFailureReason.TooLarge, detail);

    public override string ToString() => Succeeded ? $"{Feed.Format}: {Feed.Items.Count} items" : $"{Failure}: {Detail}";
}
