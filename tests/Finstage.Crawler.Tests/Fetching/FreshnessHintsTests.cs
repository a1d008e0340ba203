using System.Globalization;
using System.Net;
using Finstage.Crawler.Fetching;

namespace Finstage.Crawler.Tests.Fetching;

/// <summary>What an answer's headers say about when to ask again (issue 14): max-age, Expires, Retry-After.</summary>
[Trait("Category", "Reliability")]
[Trait("Lane", "Fast")]
public sealed class FreshnessHintsTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 5, 12, 0, 0, TimeSpan.Zero);

    [Theory(Timeout = 30_000)]
    [InlineData("max-age=300", null, null, null, 300)]
    [InlineData("public, max-age=300", "120", null, null, 180)] // a cache in between already used 120 s of it
    [InlineData(null, null, "Sat, 05 Dec 2026 12:10:00 GMT", "Sat, 05 Dec 2026 12:00:00 GMT", 600)]
    [InlineData(null, null, "Sat, 05 Dec 2026 12:10:00 GMT", "Sat, 05 Dec 2026 11:59:00 GMT", 660)] // the server's Date is the base
    [InlineData(null, null, "Sat, 05 Dec 2026 12:10:00 GMT", null, 600)] // no Date: the time it was received
    [InlineData("max-age=60", null, "Sat, 05 Dec 2026 12:10:00 GMT", "Sat, 05 Dec 2026 12:00:00 GMT", 600)] // the larger
    [InlineData("max-age=900", null, "Sat, 05 Dec 2026 12:10:00 GMT", "Sat, 05 Dec 2026 12:00:00 GMT", 900)]
    public void FreshFor_IsTheLargerOfMaxAgeAndExpires_WhenTheAnswerNamesEither(string? cacheControl, string? age, string? expires, string? date, int seconds)
    {
        using var response = Response(HttpStatusCode.OK, cacheControl, age, expires, date);

        FreshnessHints.FreshFor(response, Now).ShouldBe(TimeSpan.FromSeconds(seconds));
    }

    [Theory(Timeout = 30_000)]
    [InlineData(null, null, null, null)]
    [InlineData("no-store, max-age=300", null, null, null)]
    [InlineData("no-cache", null, "Sat, 05 Dec 2026 12:10:00 GMT", null)]
    [InlineData("max-age=0", null, null, null)]
    [InlineData("max-age=60", "600", null, null)] // already stale
    [InlineData(null, null, "0", null)] // not a date: expired
    [InlineData(null, null, "-1", null)]
    [InlineData(null, null, "Sat, 05 Dec 2026 11:00:00 GMT", "Sat, 05 Dec 2026 12:00:00 GMT")] // in the past
    public void FreshFor_IsNull_WhenTheAnswerGivesNoFreshTime(string? cacheControl, string? age, string? expires, string? date)
    {
        using var response = Response(HttpStatusCode.OK, cacheControl, age, expires, date);

        FreshnessHints.FreshFor(response, Now).ShouldBeNull();
    }

    [Theory(Timeout = 30_000)]
    [InlineData(HttpStatusCode.TooManyRequests, "120", null, 120)]
    [InlineData(HttpStatusCode.ServiceUnavailable, "3600", null, 3600)]
    [InlineData(HttpStatusCode.TooManyRequests, "Sat, 05 Dec 2026 12:05:00 GMT", "Sat, 05 Dec 2026 12:00:00 GMT", 300)]
    [InlineData(HttpStatusCode.ServiceUnavailable, "Sat, 05 Dec 2026 12:05:00 GMT", null, 300)] // no Date: the time it was received
    public void RetryAfter_IsTheWaitAsked_WhenA429Or503NamesOne(HttpStatusCode status, string retryAfter, string? date, int seconds)
    {
        using var response = Response(status, date: date);
        response.Headers.TryAddWithoutValidation("Retry-After", retryAfter);

        FreshnessHints.RetryAfter(response, Now).ShouldBe(TimeSpan.FromSeconds(seconds));
    }

    [Theory(Timeout = 30_000)]
    [InlineData(HttpStatusCode.TooManyRequests, null)]
    [InlineData(HttpStatusCode.TooManyRequests, "soon")]
    [InlineData(HttpStatusCode.TooManyRequests, "Sat, 05 Dec 2026 11:00:00 GMT")] // already past
    [InlineData(HttpStatusCode.InternalServerError, "120")] // only 429 and 503 ask for a wait
    [InlineData(HttpStatusCode.NotFound, "120")]
    public void RetryAfter_IsNull_WhenNoWaitIsAsked(HttpStatusCode status, string? retryAfter)
    {
        using var response = Response(status);
        if (retryAfter is not null)
        {
            response.Headers.TryAddWithoutValidation("Retry-After", retryAfter);
        }

        FreshnessHints.RetryAfter(response, Now).ShouldBeNull();
    }

    private static HttpResponseMessage Response(
        HttpStatusCode status, string? cacheControl = null, string? age = null, string? expires = null, string? date = null)
    {
        var response = new HttpResponseMessage(status) { Content = new ByteArrayContent([]) };
        if (cacheControl is not null)
        {
            response.Headers.TryAddWithoutValidation("Cache-Control", cacheControl);
        }
        if (age is not null)
        {
            response.Headers.Age = TimeSpan.FromSeconds(int.Parse(age, CultureInfo.InvariantCulture));
        }
        if (expires is not null)
        {
            response.Content.Headers.TryAddWithoutValidation("Expires", expires);
        }
        if (date is not null)
        {
            response.Headers.TryAddWithoutValidation("Date", date);
        }
        return response;
    }
}
