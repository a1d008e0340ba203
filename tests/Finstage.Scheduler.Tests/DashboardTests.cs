using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace Finstage.Scheduler.Tests;

public sealed class DashboardTests(SchedulerFixture scheduler)
{
    private static readonly IPAddress ElsewhereAddress = IPAddress.Parse("203.0.113.7");

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Theory(Timeout = 60_000)]
    [InlineData("/hangfire", "Realtime")]
    [InlineData("/hangfire/jobs/enqueued", "Queues")]
    [InlineData("/hangfire/jobs/scheduled", "Scheduled")]
    [InlineData("/hangfire/jobs/processing", "Processing")]
    [InlineData("/hangfire/jobs/succeeded", "Succeeded")]
    [InlineData("/hangfire/jobs/failed", "Failed")]
    [InlineData("/hangfire/jobs/deleted", "Deleted")]
    [InlineData("/hangfire/jobs/awaiting", "Awaiting")]
    [InlineData("/hangfire/recurring", "crawl-yahoo")]
    [InlineData("/hangfire/retries", "Retries")]
    [InlineData("/hangfire/servers", "Servers")]
    public async Task Dashboard_ShowsPage_WhenOpenedFromLoopback(string path, string expected)
    {
        using var client = scheduler.Factory.CreateClient();

        using var response = await client.GetAsync(new Uri(path, UriKind.Relative), Cancel);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync(Cancel)).ShouldContain(expected);
    }

    [Fact(Timeout = 60_000)]
    public async Task Dashboard_AsksForCredentials_WhenOpenedFromElsewhere()
    {
        var factory = scheduler.Create(remoteAddress: ElsewhereAddress);
        using var client = factory.CreateClient();

        using var response = await client.GetAsync(new Uri("/hangfire", UriKind.Relative), Cancel);

        response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        response.Headers.WwwAuthenticate.ToString().ShouldStartWith("Basic");
    }

    [Fact(Timeout = 60_000)]
    public async Task Dashboard_LetsIn_WhenRemoteCallerGivesConfiguredCredentials()
    {
        var factory = scheduler.Create(
            new Dictionary<string, string?> { ["Dashboard:Username"] = "ops", ["Dashboard:Password"] = "s3cret" }, ElsewhereAddress);
        using var client = factory.CreateClient();

        using var wrong = await GetWithBasicAsync(client, "ops:guess");
        using var right = await GetWithBasicAsync(client, "ops:s3cret");

        wrong.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        right.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact(Timeout = 60_000)]
    public async Task Dashboard_HidesTriggerButton_WhenReadOnly()
    {
        var readOnly = scheduler.Create(new Dictionary<string, string?> { ["Dashboard:ReadOnly"] = "true" });
        using var readOnlyClient = readOnly.CreateClient();
        using var client = scheduler.Factory.CreateClient();

        var writable = await client.GetStringAsync(new Uri("/hangfire/recurring", UriKind.Relative), Cancel);
        var hidden = await readOnlyClient.GetStringAsync(new Uri("/hangfire/recurring", UriKind.Relative), Cancel);

        writable.ShouldContain("js-jobs-list-command");
        hidden.ShouldNotContain("js-jobs-list-command");
    }

    private static Task<HttpResponseMessage> GetWithBasicAsync(HttpClient client, string credentials)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/hangfire");
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials)));
        return client.SendAsync(request, Cancel);
    }
}
