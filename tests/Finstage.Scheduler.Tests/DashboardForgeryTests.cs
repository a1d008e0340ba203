using System.Net;
using System.Text.RegularExpressions;
using Hangfire;
using Hangfire.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Finstage.Scheduler.Tests;

/// <summary>
/// Cross-site request forgery on the dashboard (issue 12, item 1): a page of another site that the
/// operator opens can post to the dashboard's actions, and the browser sends the request from the
/// operator's loopback address. Only a POST that carries the token of the dashboard's own page (and
/// its cookie) does anything; anything else is a 403 and no job is touched.
/// </summary>
[Trait("Category", "Reliability")]
[Trait("Category", "Security")]
public sealed partial class DashboardForgeryTests(SchedulerFixture scheduler)
{
    private const string RecurringJob = "crawl-investing";

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact(Timeout = 60_000)]
    public async Task Dashboard_RefusesTrigger_WhenPostCarriesNoAntiforgeryToken()
    {
        using var client = scheduler.Factory.CreateClient();
        var before = LastJobId();
        using var forged = TriggerRequest();
        forged.Headers.Add("Origin", "https://evil.example");

        using var response = await client.SendAsync(forged, Cancel);

        response.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        LastJobId().ShouldBe(before, "a refused trigger must not start the job");
    }

    // The cookie alone (which a browser would send along with a cross-site form) is not enough.
    [Fact(Timeout = 60_000)]
    public async Task Dashboard_RefusesTrigger_WhenPostCarriesTheCookieButNotTheToken()
    {
        using var client = scheduler.Factory.CreateClient();
        (await client.GetStringAsync(new Uri("/hangfire/recurring", UriKind.Relative), Cancel)).ShouldContain("csrf-token");
        var before = LastJobId();

        using var response = await client.SendAsync(TriggerRequest(), Cancel);

        response.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        LastJobId().ShouldBe(before);
    }

    [Fact(Timeout = 60_000)]
    public async Task Dashboard_Triggers_WhenPostCarriesTheTokenOfItsOwnPage()
    {
        // The test client keeps cookies, as a browser does: the page's GET sets the antiforgery cookie.
        using var client = scheduler.Factory.CreateClient();
        var page = await client.GetStringAsync(new Uri("/hangfire/recurring", UriKind.Relative), Cancel);
        var header = CsrfHeader().Match(page);
        var token = CsrfToken().Match(page);
        header.Success.ShouldBeTrue("the dashboard's layout names the token's header");
        token.Success.ShouldBeTrue("the dashboard's layout carries a token");
        var before = LastJobId();
        using var request = TriggerRequest();
        request.Headers.Add(header.Groups[1].Value, WebUtility.HtmlDecode(token.Groups[1].Value));

        using var response = await client.SendAsync(request, Cancel);

        response.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        LastJobId().ShouldNotBe(before, "the trigger starts a new run of the job");
    }

    private static HttpRequestMessage TriggerRequest() => new(HttpMethod.Post, "/hangfire/recurring/trigger")
    {
        Content = new FormUrlEncodedContent([new KeyValuePair<string, string>("jobs[]", RecurringJob)]),
    };

    private string? LastJobId()
    {
        using var connection = scheduler.Factory.Services.GetRequiredService<JobStorage>().GetConnection();
        return connection.GetRecurringJobs([RecurringJob]).Single().LastJobId;
    }

    [GeneratedRegex("""<meta name="csrf-header" content="([^"]+)"\s*/?>""")]
    private static partial Regex CsrfHeader();

    [GeneratedRegex("""<meta name="csrf-token" content="([^"]+)"\s*/?>""")]
    private static partial Regex CsrfToken();
}
