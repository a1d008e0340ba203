using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Finstage.Testing;
using Hangfire;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

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

    [Fact(Timeout = 90_000)]
    public async Task Dashboard_ShowsRealJobsInListsAndDetail_WhenJobsSucceededFailedAndAreScheduled()
    {
        using var client = scheduler.Factory.CreateClient();
        var jobs = scheduler.Factory.Services.GetRequiredService<IBackgroundJobClient>();
        var storage = scheduler.Factory.Services.GetRequiredService<JobStorage>();
        using var crawl = await client.PostAsJsonAsync("/api/crawls", new { source = "yahoo", symbols = new[] { "AAPL" } }, Cancel);
        var succeededId = (await crawl.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("jobId").GetString()!;
        var failedId = jobs.Enqueue(() => DashboardProbeJobs.Fail("a job that fails on purpose"));
        var scheduledId = jobs.Schedule(() => DashboardProbeJobs.Fail("not yet"), TimeSpan.FromHours(1));

        await Eventually.WaitForAsync(
            () => Task.FromResult((StateOf(storage, succeededId), StateOf(storage, failedId))),
            states => states == ("Succeeded", "Failed"), TimeSpan.FromSeconds(60), "one job succeeded and one failed", Cancel);

        (await PageAsync(client, "/hangfire/jobs/succeeded")).ShouldContain($"/jobs/details/{succeededId}");
        (await PageAsync(client, "/hangfire/jobs/failed")).ShouldContain("a job that fails on purpose");
        (await PageAsync(client, "/hangfire/jobs/scheduled")).ShouldContain($"/jobs/details/{scheduledId}");
        var detail = await PageAsync(client, $"/hangfire/jobs/details/{succeededId}");
        detail.ShouldContain("Crawl yahoo by request");
        detail.ShouldContain("Succeeded");
        (await PageAsync(client, "/hangfire/servers")).ShouldContain(Environment.MachineName.ToLowerInvariant());
    }

    [Fact(Timeout = 60_000)]
    [Trait("Category", "Reliability")]
    public async Task Dashboard_AsksForCredentials_WhenOpenedFromElsewhere()
    {
        var factory = scheduler.Create(remoteAddress: ElsewhereAddress);
        using var client = factory.CreateClient();

        using var response = await client.GetAsync(new Uri("/hangfire", UriKind.Relative), Cancel);

        response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        response.Headers.WwwAuthenticate.ToString().ShouldStartWith("Basic");
    }

    [Fact(Timeout = 60_000)]
    [Trait("Category", "Reliability")]
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

    // docker-compose.yml's default: a username, and no password unless DASHBOARD_PASSWORD is set.
    [Fact(Timeout = 60_000)]
    [Trait("Category", "Reliability")]
    public async Task Dashboard_AsksForCredentials_WhenOnlyAUsernameIsConfigured()
    {
        var factory = scheduler.Create(
            new Dictionary<string, string?> { ["Dashboard:Username"] = "admin", ["Dashboard:Password"] = "" }, ElsewhereAddress);
        using var client = factory.CreateClient();

        using var empty = await GetWithBasicAsync(client, "admin:");
        using var none = await client.GetAsync(new Uri("/hangfire", UriKind.Relative), Cancel);

        empty.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        none.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
    }

    // Only the connection's own address counts: a header a caller writes cannot make it local.
    [Fact(Timeout = 60_000)]
    [Trait("Category", "Reliability")]
    public async Task Dashboard_AsksForCredentials_WhenRemoteCallerClaimsLoopbackInForwardingHeaders()
    {
        var factory = scheduler.Create(remoteAddress: ElsewhereAddress);
        using var client = factory.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/hangfire");
        request.Headers.Add("X-Forwarded-For", "127.0.0.1");
        request.Headers.Add("X-Real-IP", "127.0.0.1");
        request.Headers.Add("Forwarded", "for=127.0.0.1");

        using var response = await client.SendAsync(request, Cancel);

        response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
    }

    [Fact(Timeout = 60_000)]
    [Trait("Category", "Reliability")]
    public void ShippedSettings_HaveNoDashboardCredentials_WhenNothingElseSetsThem()
    {
        var contentRoot = scheduler.Factory.Services.GetRequiredService<IWebHostEnvironment>().ContentRootPath;
        var files = Directory.GetFiles(contentRoot, "appsettings*.json");
        var shipped = new ConfigurationBuilder();
        foreach (var file in files)
        {
            shipped.AddJsonFile(file);
        }

        var dashboard = shipped.Build().GetSection(Infrastructure.DashboardOptions.SectionName).Get<Infrastructure.DashboardOptions>() ?? new();

        files.ShouldContain(file => Path.GetFileName(file) == "appsettings.json");
        dashboard.Username.ShouldBeNullOrEmpty();
        dashboard.Password.ShouldBeNullOrEmpty();
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

    private static string? StateOf(JobStorage storage, string jobId)
    {
        using var connection = storage.GetConnection();
        return connection.GetJobData(jobId)?.State;
    }

    private static async Task<string> PageAsync(HttpClient client, string path)
    {
        using var response = await client.GetAsync(new Uri(path, UriKind.Relative), Cancel);
        response.StatusCode.ShouldBe(HttpStatusCode.OK, path);
        return await response.Content.ReadAsStringAsync(Cancel);
    }

    private static Task<HttpResponseMessage> GetWithBasicAsync(HttpClient client, string credentials)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/hangfire");
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials)));
        return client.SendAsync(request, Cancel);
    }
}

/// <summary>Jobs that exist only so the dashboard has a failure to show.</summary>
public static class DashboardProbeJobs
{
    [AutomaticRetry(Attempts = 0)]
    public static void Fail(string why) => throw new InvalidOperationException(why);
}
