using Finstage.Contracts;

namespace Finstage.Crawler.Tests;

/// <summary>The rules a consumer checks before it trusts a message, without a broker.</summary>
[Trait("Lane", "Fast")]
public sealed class MessageRulesTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 5, 12, 0, 0, TimeSpan.Zero);

    private static NewsCrawled Crawled(params NewsArticle[] articles) =>
        new(Guid.NewGuid(), Guid.NewGuid(), "yahoo", "AAPL", At, TimeSpan.FromSeconds(1), 200, false, articles);

    private static CrawlFailed Failed() =>
        new(Guid.NewGuid(), Guid.NewGuid(), "yahoo", "AAPL", CrawlFailureReason.Timeout, "timed out", 1, At);

    [Fact(Timeout = 30_000)]
    [Trait("Category", "Reliability")]
    public void Violations_AreEmpty_WhenEveryMessageIsAsTheServicesPublishIt()
    {
        MessageRules.Violations(new CrawlRequested(Guid.NewGuid(), Guid.NewGuid(), "yahoo", "AAPL", At)).ShouldBeEmpty();
        MessageRules.Violations(Crawled(new NewsArticle("https://ex.com/a", "A"), new NewsArticle("http://ex.com/b", ""))).ShouldBeEmpty();
        MessageRules.Violations(Crawled() with { NotModified = true, HttpStatus = 304 }).ShouldBeEmpty();
        MessageRules.Violations(Failed()).ShouldBeEmpty();
    }

    [Fact(Timeout = 30_000)]
    [Trait("Category", "Reliability")]
    public void Violations_NameEveryMissingMember_WhenTheJsonLeftThemOut()
    {
        // What the serializer builds from "{}": empty ids, null strings, default times.
        var empty = new CrawlRequested(Guid.Empty, Guid.Empty, null!, null!, default);

        MessageRules.Violations(empty).ShouldBe(
        [
            "CrawlId is missing or empty",
            "CycleId is missing or empty",
            "Source is missing or blank",
            "Symbol is missing or blank",
            "RequestedAt is missing",
        ]);
    }

    [Theory(Timeout = 30_000)]
    [Trait("Category", "Reliability")]
    [InlineData(99, true)]
    [InlineData(100, false)]
    [InlineData(599, false)]
    [InlineData(600, true)]
    [InlineData(0, true)]
    public void Violations_RefuseTheHttpStatus_WhenItIsOutsideHttpsRange(int status, bool refused)
    {
        var violations = MessageRules.Violations(Crawled() with { HttpStatus = status });

        violations.Contains($"HttpStatus {status} is not an HTTP status").ShouldBe(refused);
    }

    [Fact(Timeout = 30_000)]
    [Trait("Category", "Reliability")]
    public void Violations_RefuseAnArticlesStoredTheStreamCouldNotSendAsIs_WhenAPartIsMissingOrHostile()
    {
        var sound = new ArticlesStored(Guid.NewGuid(), 1, Guid.NewGuid(), Guid.NewGuid(), "yahoo", "AAPL", At,
            [new StoredArticle("0123456789abcdef0123456789abcdef", "https://ex.com/a", "", At)]);
        MessageRules.Violations(sound).ShouldBeEmpty();

        var broken = sound with
        {
            EventId = Guid.Empty,
            Sequence = -1,
            Articles =
            [
                null!,
                new StoredArticle(" ", "https://ex.com/b", "B", null),
                new StoredArticle("ab", "javascript:alert(1)", "C", null),
                new StoredArticle("cd", "https://ex.com/d", null!, null),
            ],
        };
        MessageRules.Violations(broken).ShouldBe(
        [
            "EventId is missing or empty",
            "Sequence -1 is negative",
            "Articles[0] is null",
            "Articles[1].Id is missing or blank",
            "Articles[2].Url is not an absolute http(s) URL",
            "Articles[3].Title is missing",
        ]);
    }

    [Fact(Timeout = 30_000)]
    [Trait("Category", "Reliability")]
    public void Violations_PointAtTheBadArticle_WhenOneHasNoUsableUrlOrTitle()
    {
        var message = Crawled(
            new NewsArticle("https://ex.com/ok", "ok"),
            null!,
            new NewsArticle("/relative", "t"),
            new NewsArticle("ftp://ex.com/file", "t"),
            new NewsArticle("https://ex.com/untitled", null!)) with { Duration = TimeSpan.FromSeconds(-1) };

        MessageRules.Violations(message).ShouldBe(
        [
            "Duration is negative",
            "Articles[1] is null",
            "Articles[2].Url is not an absolute http(s) URL",
            "Articles[3].Url is not an absolute http(s) URL",
            "Articles[4].Title is missing",
        ]);
    }

    [Fact(Timeout = 30_000)]
    [Trait("Category", "Reliability")]
    public void Violations_SayArticlesIsMissing_WhenTheListIsNull()
    {
        MessageRules.Violations(Crawled() with { Articles = null! }).ShouldBe(["Articles is missing"]);
    }

    [Fact(Timeout = 30_000)]
    [Trait("Category", "Reliability")]
    public void Violations_RefuseAFailure_WhenItsReasonIsAnUnknownNumberOrItsDetailOrCountIsBroken()
    {
        var failure = Failed() with { Reason = (CrawlFailureReason)42, Detail = null!, Attempts = -1, FailedAt = default };

        MessageRules.Violations(failure).ShouldBe(
        [
            "Reason 42 is not a CrawlFailureReason",
            "Detail is missing",
            "Attempts is negative",
            "FailedAt is missing",
        ]);
    }

    [Fact(Timeout = 30_000)]
    public void Violations_Throw_WhenTheMessageItselfIsNull()
    {
        Should.Throw<ArgumentNullException>(() => MessageRules.Violations((NewsCrawled)null!));
    }
}
