using Finstage.Crawler.Parsing;

namespace Finstage.Crawler.Tests;

/// <summary>The date forms real feeds use, each read to the right UTC instant.</summary>
[Trait("Lane", "Fast")]
public sealed class FeedDatesTests
{
    [Theory(Timeout = 30_000)]
    [InlineData("Thu, 01 Jan 2004 19:48:21 GMT", "2004-01-01T19:48:21Z")]
    [InlineData("Thu, 01 Jan 2004 19:48:21 UT", "2004-01-01T19:48:21Z")]
    [InlineData("Thu, 01 Jan 2004 19:48:21 +0000", "2004-01-01T19:48:21Z")]
    [InlineData("Wed, 12 Aug 2026 18:17:00 -0400", "2026-08-12T22:17:00Z")]
    [InlineData("Wed, 12 Aug 2026 18:17:00 -04:00", "2026-08-12T22:17:00Z")]
    [InlineData("Wed, 12 Aug 2026 18:17:00 EDT", "2026-08-12T22:17:00Z")]
    [InlineData("Wed, 12 Jan 2026 18:17:00 EST", "2026-01-12T23:17:00Z")]
    [InlineData("Wed, 12 Aug 2026 10:00:00 PDT", "2026-08-12T17:00:00Z")]
    [InlineData("Wed, 12 Aug 2026 10:00:00 CET", "2026-08-12T09:00:00Z")]
    [InlineData("Wed, 12 Aug 2026 10:00:00 CEST", "2026-08-12T08:00:00Z")]
    [InlineData("Wed, 12 Aug 2026 10:00:00 BST", "2026-08-12T09:00:00Z")]
    [InlineData("Wed, 12 Aug 2026 10:00:00 KST", "2026-08-12T01:00:00Z")]
    [InlineData("Wed, 12 Aug 2026 10:00:00 JST", "2026-08-12T01:00:00Z")]
    [InlineData("Wed, 12 Aug 2026 10:00:00 IST", "2026-08-12T04:30:00Z")]
    [InlineData("Wed, 12 Aug 2026 10:00:00 AEST", "2026-08-12T00:00:00Z")]
    [InlineData("Wed, 12 Aug 2026 10:00:00 UTC", "2026-08-12T10:00:00Z")]
    public void Parse_ReturnsUtc_WhenRfc822HasAnyCommonZone(string text, string expected)
    {
        FeedDates.Parse(text).ShouldBe(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture));
    }

    [Theory(Timeout = 30_000)]
    [InlineData("Fri, 14 Aug 2026 02:51 GMT", "2026-08-14T02:51:00Z")]
    [InlineData("Fri, 7 Aug 2026 21:10:00 +0000", "2026-08-07T21:10:00Z")]
    [InlineData("7 Aug 2026 21:10 GMT", "2026-08-07T21:10:00Z")]
    [InlineData("Fri, 07 Aug 26 21:10:00 GMT", "2026-08-07T21:10:00Z")]
    [InlineData("Friday, 07 August 2026 21:10:00 GMT", "2026-08-07T21:10:00Z")]
    [InlineData("Aug 7, 2026 9:10:00 GMT", "2026-08-07T09:10:00Z")]
    [InlineData("Fri Aug 07 21:10:00 2026", "2026-08-07T21:10:00Z")]
    [InlineData("Fri, 07 Aug 2026 21:10:00 +0000 (UTC)", "2026-08-07T21:10:00Z")]
    [InlineData("Fri, 07 Aug 2026 21:10:00 GMT+0200", "2026-08-07T19:10:00Z")]
    [InlineData("Fri, 07 Aug 2026", "2026-08-07T00:00:00Z")]
    public void Parse_ReadsLooseRfc822_WhenSecondsWeekdayOrDigitsAreMissing(string text, string expected)
    {
        FeedDates.Parse(text).ShouldBe(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture));
    }

    [Theory(Timeout = 30_000)]
    [InlineData("2026-08-12T22:17:00Z", "2026-08-12T22:17:00Z")]
    [InlineData("2020-07-02T20:06:57+00:00", "2020-07-02T20:06:57Z")]
    [InlineData("2003-12-31T10:14:55-08:00", "2003-12-31T18:14:55Z")]
    [InlineData("2003-12-31T10:14:55.123+0100", "2003-12-31T09:14:55.123Z")]
    [InlineData("2026-08-14 07:54:20", "2026-08-14T07:54:20Z")]
    [InlineData("2026-08-14T07:54", "2026-08-14T07:54:00Z")]
    [InlineData("2026-08-14", "2026-08-14T00:00:00Z")]
    [InlineData("20260814T075420Z", "2026-08-14T07:54:20Z")]
    [InlineData("  2026-08-14 07:54:20 \n", "2026-08-14T07:54:20Z")]
    [InlineData("2026-08-14 07:54:20 EST", "2026-08-14T12:54:20Z")]
    [InlineData("2026-08-14T07:54:20.1234567Z", "2026-08-14T07:54:20.1234567Z")]
    public void Parse_ReadsIso8601AndTakesZonelessAsUtc_WhenW3cDtfOrInvestingStyle(string text, string expected)
    {
        FeedDates.Parse(text).ShouldBe(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture));
    }

    [Theory(Timeout = 30_000)]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("yesterday")]
    [InlineData("32 Jan 2026 10:00:00 GMT")]
    [InlineData("2026-13-01")]
    [InlineData("Thu, 01 Foo 2004 19:48:21 GMT")]
    [InlineData("Thu, 01 Jan 2004 25:48:21 GMT")]
    public void Parse_ReturnsNull_WhenTextIsNotADate(string? text)
    {
        FeedDates.Parse(text).ShouldBeNull();
    }

    [Fact(Timeout = 30_000)]
    public void Parse_ReturnsOffsetZero_WhenAnyDateIsRead()
    {
        FeedDates.Parse("Wed, 12 Aug 2026 10:00:00 KST")!.Value.Offset.ShouldBe(TimeSpan.Zero);
    }

    [Trait("Category", "Reliability")]
    [Theory(Timeout = 30_000)]
    [InlineData('(')]
    [InlineData('"')]
    [InlineData('-')]
    public void Parse_ReturnsNullAtOnce_WhenTheTextIsAMillionCharactersLong(char filler)
    {
        // "\([^)]*\)" over a million '(' looked for ')' from each of them: about 10^12 steps.
        FeedDates.Parse("Thu, 01 Jan 2004 19:48:21 GMT " + new string(filler, 1_000_000)).ShouldBeNull();
    }
}
