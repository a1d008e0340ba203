using System.Text;
using Finstage.Contracts;
using Finstage.ServiceDefaults;
using Finstage.Testing;

namespace Finstage.Crawler.Tests.Fetching;

/// <summary>
/// Broken crawl requests put straight into the crawler's queue (raw bytes, below MassTransit): each
/// one must land in fetch-news_error (fetch-news-manual_error for the queue of crawls asked for by hand)
/// with the reason, at once and without a fetch, while the valid requests around it are crawled.
/// </summary>
[Trait("Category", "Reliability")]
[Collection(nameof(SharedCrawler))]
public sealed class PoisonRequestTests(CrawlerFixture crawler)
{
    private const string Queue = "fetch-news";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public static TheoryData<string> Poisons => [.. Poison(Request("any"), "any").Keys];

    [Theory(Timeout = 120_000)]
    [MemberData(nameof(Poisons))]
    public Task FetchNews_CrawlsTheValidRequestsAndParksOnlyThePoison_WhenPoisonArrivesBetweenThem(string poison) =>
        CrawlsTheValidRequestsAndParksOnlyThePoisonAsync(Queue, poison);

    [Theory(Timeout = 120_000)]
    [MemberData(nameof(Poisons))]
    public Task FetchManualNews_CrawlsTheValidRequestsAndParksOnlyThePoison_WhenPoisonArrivesBetweenThem(string poison) =>
        CrawlsTheValidRequestsAndParksOnlyThePoisonAsync(Queues.ManualCrawls, poison);

    private async Task CrawlsTheValidRequestsAndParksOnlyThePoisonAsync(string queue, string poison)
    {
        var before = Request("AAPL");
        var after = Request("MSFT");
        var poisonRequest = Request("POISON");
        var poisonId = Guid.NewGuid().ToString();
        var (body, exceptionType, reasons) = Poison(poisonRequest, poisonId)[poison];

        await BrokerQueues.SendRawAsync(crawler.Broker, queue, [Raw(before), new RawMessage(body, poisonId), Raw(after)], Cancel);

        var crawled = await crawler.Crawled.WaitForAsync(
            2, message => message.CrawlId == before.CrawlId || message.CrawlId == after.CrawlId, Deadline, Cancel);
        crawled.Select(received => received.Message.Articles.Count).ShouldAllBe(count => count == 2);
        var parked = await BrokerQueues.WaitForAsync(crawler.Broker, queue + "_error", poisonId, Deadline, Cancel);
        parked.Header("MT-Reason").ShouldBe("fault");
        parked.Header("MT-Fault-ExceptionType").ShouldNotBeNull().ShouldStartWith(exceptionType);
        var reason = parked.Header("MT-Fault-Message").ShouldNotBeNull();
        foreach (var expected in reasons)
        {
            reason.ShouldContain(expected);
        }
        parked.Headers.ShouldNotContainKey("MT-Fault-RetryCount");
        // Parked before the consumer ran: no fetch of the poison's feed, no result published for it.
        crawler.Feeds.Requests.ShouldNotContain(request => request.PathAndQuery.EndsWith("/POISON", StringComparison.Ordinal));
        crawler.Crawled.Messages.ShouldNotContain(received => received.Message.CrawlId == poisonRequest.CrawlId);
        crawler.Failed.Messages.ShouldNotContain(received => received.Message.CrawlId == poisonRequest.CrawlId);
    }

    [Fact(Timeout = 120_000)]
    public async Task FetchNews_MovesTheMessageToTheSkippedQueue_WhenItsTypeIsNotConsumedThere()
    {
        var after = Request("NVDA");
        var strangerId = Guid.NewGuid().ToString();
        var stranger = BrokerQueues.Envelope("urn:message:Finstage.Contracts:CrawlCancelled", """{"crawlId":"8f0c2b51-4f7e-4a39-9d7e-0b8c7d1e2a33"}""", strangerId);

        await BrokerQueues.SendRawAsync(crawler.Broker, Queue, [new RawMessage(stranger, strangerId), Raw(after)], Cancel);

        var skipped = await BrokerQueues.WaitForAsync(crawler.Broker, Queue + "_skipped", strangerId, Deadline, Cancel);
        skipped.Header("MT-Reason").ShouldBe("dead-letter");
        await crawler.Crawled.WaitForAsync(1, message => message.CrawlId == after.CrawlId, Deadline, Cancel);
    }

    private static CrawlRequested Request(string symbol) =>
        new(Guid.NewGuid(), Guid.NewGuid(), "local", symbol, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddMinutes(5));

    private static RawMessage Raw(CrawlRequested request)
    {
        var id = Guid.NewGuid().ToString();
        return new RawMessage(BrokerQueues.Envelope(request, id), id);
    }

    /// <summary>Each kind of poison for the crawler's queue: its body, the exception type it faults with, words its reason must hold.</summary>
    private static Dictionary<string, (byte[] Body, string ExceptionType, string[] Reasons)> Poison(CrawlRequested request, string id) => new()
    {
        ["malformed JSON"] = (Encoding.UTF8.GetBytes("{\"messageType\":[\"urn:message:Finstage.Contracts:CrawlRequested\"],\"message\":{symbol:AAPL}}"),
            "System.Text.Json.", []),
        ["required members missing"] = (BrokerQueues.Envelope(request, id, json =>
            {
                json.Remove("crawlId");
                json.Remove("source");
                json.Remove("requestedAt");
            }),
            typeof(InvalidMessageException).FullName!, ["CrawlRequested breaks its contract", "CrawlId is missing", "Source is missing", "RequestedAt is missing"]),
        ["blank symbol and empty cycle id"] = (BrokerQueues.Envelope(request with { Symbol = "", CycleId = Guid.Empty }, id),
            typeof(InvalidMessageException).FullName!, ["Symbol is missing or blank", "CycleId is missing or empty"]),
        ["id that is not a Guid"] = (BrokerQueues.Envelope(request, id, json => json["crawlId"] = "nonsense"),
            typeof(FormatException).FullName!, ["Guid"]),
        ["oversized body"] = (BrokerQueues.Envelope(request, id, json => json["padding"] = new string('x', 100_000)),
            typeof(MessageTooLargeException).FullName!, [$"over the cap of {CrawlerFixture.MaxMessageBytes} bytes"]),
    };
}
