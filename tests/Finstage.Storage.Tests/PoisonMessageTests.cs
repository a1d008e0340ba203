using System.Text;
using Finstage.Contracts;
using Finstage.ServiceDefaults;
using Finstage.Testing;

namespace Finstage.Storage.Tests;

/// <summary>
/// Broken messages put straight into the storage service's queues (raw bytes, below MassTransit):
/// each one must land in the queue's _error queue with the reason, at once, while the valid messages
/// around it are stored. The host's body cap is <see cref="StorageFixture.MaxMessageBytes"/>.
/// </summary>
[Trait("Category", "Reliability")]
public sealed class PoisonMessageTests(StorageFixture storage) : IAsyncLifetime
{
    private const string NewsQueue = "store-news-crawled";
    private const string FailedQueue = "record-crawl-failed";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => await storage.ResetAsync();

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    public static TheoryData<string> NewsCrawledPoisons => [.. NewsCrawledPoison("any").Keys];

    public static TheoryData<string> CrawlFailedPoisons => [.. CrawlFailedPoison("any").Keys];

    [Theory(Timeout = 120_000)]
    [MemberData(nameof(NewsCrawledPoisons))]
    public async Task StoreNewsCrawled_StoresTheValidResultsAndParksOnlyThePoison_WhenOneMessageOfTheBatchIsPoison(string poison)
    {
        var valid = new[] { "BEFORE1", "BEFORE2", "AFTER1", "AFTER2" }
            .Select((symbol, i) => Crawls.Crawled(symbol, "yahoo", Crawls.Article(i)))
            .ToList();
        var poisonId = Guid.NewGuid().ToString();
        var (body, exceptionType, reasons) = NewsCrawledPoison(poisonId)[poison];

        // Back to back, so the batch collector (50 ms in the tests) takes them together.
        await BrokerQueues.SendRawAsync(storage.Broker, NewsQueue,
            [Raw(valid[0]), Raw(valid[1]), new RawMessage(body, poisonId), Raw(valid[2]), Raw(valid[3])], Cancel);

        await Eventually.WaitForAsync(() => storage.CountAsync("crawl_runs"), count => count >= 4, Deadline, "the four valid crawl runs", Cancel);
        var parked = await BrokerQueues.WaitForAsync(storage.Broker, NewsQueue + "_error", poisonId, Deadline, Cancel);
        ShouldBeParkedAtOnce(parked, exceptionType, reasons);
        (await storage.CountAsync("crawl_runs")).ShouldBe(4);
        (await storage.CountAsync("crawl_runs", "`symbol` IN ('BEFORE1', 'BEFORE2', 'AFTER1', 'AFTER2')")).ShouldBe(4);
        (await storage.CountAsync("articles")).ShouldBe(4);
    }

    [Theory(Timeout = 120_000)]
    [MemberData(nameof(CrawlFailedPoisons))]
    public async Task RecordCrawlFailed_RecordsTheValidFailuresAndParksOnlyThePoison_WhenPoisonArrivesBetweenThem(string poison)
    {
        var before = Crawls.Failed("BEFORE", CrawlFailureReason.Timeout);
        var after = Crawls.Failed("AFTER", CrawlFailureReason.HttpError);
        var poisonId = Guid.NewGuid().ToString();
        var (body, exceptionType, reasons) = CrawlFailedPoison(poisonId)[poison];

        await BrokerQueues.SendRawAsync(storage.Broker, FailedQueue, [Raw(before), new RawMessage(body, poisonId), Raw(after)], Cancel);

        await Eventually.WaitForAsync(
            () => storage.CountAsync("crawl_runs", "`symbol` IN ('BEFORE', 'AFTER') AND `status` = 'Failed'"), count => count == 2,
            Deadline, "both valid failures recorded", Cancel);
        var parked = await BrokerQueues.WaitForAsync(storage.Broker, FailedQueue + "_error", poisonId, Deadline, Cancel);
        ShouldBeParkedAtOnce(parked, exceptionType, reasons);
        (await storage.CountAsync("crawl_runs")).ShouldBe(2);
    }

    [Fact(Timeout = 120_000)]
    public async Task StoreNewsCrawled_MovesTheMessageToTheSkippedQueue_WhenItsTypeIsNotConsumedThere()
    {
        var after = Crawls.Crawled("AFTER", "yahoo", Crawls.Article(7));
        var strangerId = Guid.NewGuid().ToString();
        // Well-formed, but a type no consumer on this queue takes (a publisher bound it by mistake).
        var stranger = BrokerQueues.Envelope("urn:message:Finstage.Contracts:NewsDeleted", """{"crawlId":"8f0c2b51-4f7e-4a39-9d7e-0b8c7d1e2a33"}""", strangerId);

        await BrokerQueues.SendRawAsync(storage.Broker, NewsQueue, [new RawMessage(stranger, strangerId), Raw(after)], Cancel);

        var skipped = await BrokerQueues.WaitForAsync(storage.Broker, NewsQueue + "_skipped", strangerId, Deadline, Cancel);
        skipped.Header("MT-Reason").ShouldBe("dead-letter");
        await Eventually.WaitForAsync(
            () => storage.CountAsync("crawl_runs", "`symbol` = 'AFTER'"), count => count == 1, Deadline, "the valid result behind it", Cancel);
        (await BrokerQueues.PeekAsync(storage.Broker, NewsQueue + "_error", Cancel)).ShouldNotContain(message => message.MessageId == strangerId);
    }

    /// <summary>Parked with MassTransit's fault headers naming the reason, and never retried.</summary>
    private static void ShouldBeParkedAtOnce(QueuedMessage parked, string exceptionType, string[] reasons)
    {
        parked.Header("MT-Reason").ShouldBe("fault");
        parked.Header("MT-Fault-ExceptionType").ShouldNotBeNull().ShouldStartWith(exceptionType);
        var reason = parked.Header("MT-Fault-Message").ShouldNotBeNull();
        foreach (var expected in reasons)
        {
            reason.ShouldContain(expected);
        }
        parked.Headers.ShouldNotContainKey("MT-Fault-RetryCount");
    }

    private static RawMessage Raw<T>(T message)
        where T : class
    {
        var id = Guid.NewGuid().ToString();
        return new RawMessage(BrokerQueues.Envelope(message, id), id);
    }

    /// <summary>Each kind of poison for the NewsCrawled queue: its body, the exception type it faults with, words its reason must hold.</summary>
    private static Dictionary<string, (byte[] Body, string ExceptionType, string[] Reasons)> NewsCrawledPoison(string id)
    {
        var crawl = Crawls.Crawled("POISON", "yahoo", Crawls.Article(90), Crawls.Article(91));
        return new()
        {
            ["malformed JSON"] = (Encoding.UTF8.GetBytes("""{"messageId":"x","messageType":["urn:message:Finstage.Contracts:NewsCrawled"],"message":{"crawlId":"""),
                "System.Text.Json.", []),
            ["required members missing"] = (BrokerQueues.Envelope(crawl, id, json =>
                {
                    json.Remove("crawlId");
                    json.Remove("symbol");
                    json.Remove("articles");
                }),
                typeof(InvalidMessageException).FullName!, ["NewsCrawled breaks its contract", "CrawlId is missing", "Symbol is missing", "Articles is missing"]),
            ["blank symbol and empty crawl id"] = (BrokerQueues.Envelope(crawl with { Symbol = " ", CrawlId = Guid.Empty }, id),
                typeof(InvalidMessageException).FullName!, ["Symbol is missing or blank", "CrawlId is missing or empty"]),
            ["article without URL"] = (BrokerQueues.Envelope(crawl, id, json => json["articles"]![1]!.AsObject().Remove("url")),
                typeof(InvalidMessageException).FullName!, ["Articles[1].Url is not an absolute http(s) URL"]),
            ["id that is not a Guid"] = (BrokerQueues.Envelope(crawl, id, json => json["cycleId"] = "nonsense"),
                typeof(FormatException).FullName!, ["Guid"]),
            ["oversized body"] = (BrokerQueues.Envelope(crawl with { Articles = [Crawls.Article(92, summary: new string('x', 100_000))] }, id),
                typeof(MessageTooLargeException).FullName!, [$"over the cap of {StorageFixture.MaxMessageBytes} bytes"]),
        };
    }

    /// <summary>Each kind of poison for the CrawlFailed queue.</summary>
    private static Dictionary<string, (byte[] Body, string ExceptionType, string[] Reasons)> CrawlFailedPoison(string id)
    {
        var failure = Crawls.Failed("POISON", CrawlFailureReason.ParseError);
        return new()
        {
            ["malformed JSON"] = ("{\"messageType\":[\u0000]"u8.ToArray(), "System.Text.Json.", []),
            ["required members missing"] = (BrokerQueues.Envelope(failure, id, json =>
                {
                    json.Remove("crawlId");
                    json.Remove("symbol");
                    json.Remove("failedAt");
                }),
                typeof(InvalidMessageException).FullName!, ["CrawlFailed breaks its contract", "CrawlId is missing", "Symbol is missing", "FailedAt is missing"]),
            ["unknown reason and blank source"] = (BrokerQueues.Envelope(failure with { Source = "", Reason = (CrawlFailureReason)99 }, id),
                typeof(InvalidMessageException).FullName!, ["Reason 99 is not a CrawlFailureReason", "Source is missing or blank"]),
            ["oversized body"] = (BrokerQueues.Envelope(failure with { Detail = new string('x', 100_000) }, id),
                typeof(MessageTooLargeException).FullName!, [$"over the cap of {StorageFixture.MaxMessageBytes} bytes"]),
        };
    }
}
