using System.Net.Http.Json;
using System.Text.Json;
using Finstage.Contracts;
using Finstage.Testing;

namespace Finstage.Crawler.Tests.Fetching;

/// <summary>
/// Crawls asked for by hand arrive on a queue of their own (<c>fetch-news-manual</c>), fetched by a few
/// consumers beside the scheduled ones and through the same per-host rate limit, so a large manual
/// request never holds up a scheduled cycle.
/// </summary>
[Trait("Category", "Reliability")]
[Collection(nameof(SharedCrawler))]
public sealed class ManualQueueTests(CrawlerFixture crawler)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact(Timeout = 120_000)]
    public async Task FetchManualNews_LetsScheduledRequestsOvertakeTheManualBacklog_WhenBothWaitForOneHost()
    {
        const int manual = 100;
        const int scheduled = 10;
        var manualCycle = Guid.NewGuid();
        var scheduledCycle = Guid.NewGuid();
        var manualRequests = Requests(manualCycle, "M", manual);

        await crawler.SendManualAsync(manualRequests);
        foreach (var request in Requests(scheduledCycle, "S", scheduled))
        {
            await crawler.PublishAsync(request);
        }
        await crawler.Crawled.WaitForAsync(scheduled, message => message.CycleId == scheduledCycle, TimeSpan.FromSeconds(60), Cancel);
        var manualDoneFirst = crawler.Crawled.Messages.Count(received => received.Message.CycleId == manualCycle);

        // The host takes 20 requests a second whatever the machine: the manual backlog needs at least 5 s.
        // Scheduled crawls hold most places in the host's limiter (3 consumers to the manual queue's 2), so
        // theirs come after about 17 of its requests; before the manual queue, they waited behind all 100.
        TestContext.Current.TestOutputHelper?.WriteLine($"{manualDoneFirst} of {manual} manual crawls were done when the {scheduled} scheduled ones were");
        manualDoneFirst.ShouldBeLessThan(manual / 2, "the scheduled requests must not wait behind the manual backlog");
        var manualCrawled = await crawler.Crawled.WaitForAsync(manual, message => message.CycleId == manualCycle, TimeSpan.FromSeconds(60), Cancel);
        manualCrawled.Select(received => received.Message.CrawlId).ShouldBe(manualRequests.Select(request => request.CrawlId), ignoreOrder: true);
        crawler.Failed.Messages.ShouldNotContain(received => received.Message.CycleId == manualCycle || received.Message.CycleId == scheduledCycle);
    }

    [Fact(Timeout = 60_000)]
    public async Task FetchManualNews_GetsOnlyWhatIsSentToItsQueue_WhenRequestsArePublished()
    {
        using var http = TestServers.CreateManagementClient();
        var vhost = Uri.EscapeDataString(BrokerQueues.VirtualHostName(crawler.Broker));

        var intoManual = await SourcesBoundTo(http, vhost, Queues.ManualCrawls);
        var intoScheduled = await SourcesBoundTo(http, vhost, "fetch-news");

        // Every published crawl request reaches fetch-news through its message type's exchange; none reaches the manual queue.
        intoScheduled.ShouldContain(source => source.Contains("CrawlRequested", StringComparison.Ordinal));
        intoManual.ShouldBeEmpty();
    }

    private static List<CrawlRequested> Requests(Guid cycle, string prefix, int count) =>
        [.. Enumerable.Range(0, count).Select(i => new CrawlRequested(
            Guid.NewGuid(), cycle, "paced", $"{prefix}{i:D3}", DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddMinutes(5)))];

    // MassTransit binds a queue to an exchange of the same name, and that exchange to those of the message types it consumes.
    private static async Task<List<string>> SourcesBoundTo(HttpClient http, string vhost, string exchange)
    {
        var bindings = await http.GetFromJsonAsync<JsonElement>(
            new Uri($"api/exchanges/{vhost}/{Uri.EscapeDataString(exchange)}/bindings/destination", UriKind.Relative), Cancel);
        return [.. bindings.EnumerateArray().Select(binding => binding.GetProperty("source").GetString()!)];
    }
}
