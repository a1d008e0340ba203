using System.Text;
using Finstage.Testing;
using MySqlConnector;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace Finstage.Storage.Tests;

/// <summary>
/// The storage's two retry policies: a database that refuses one write is not an outage, so the
/// message gets the quick retries and then the error queue, not the patient wait for the database.
/// </summary>
public sealed class IngestRetryTests(StorageFixture storage) : IAsyncLifetime
{
    private const string ErrorQueue = "store-news-crawled_error";

    public async ValueTask InitializeAsync() => await storage.ResetAsync();

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    [Fact(Timeout = 120_000)]
    public async Task StoreNewsCrawled_GoesToTheErrorQueueAfterTheQuickRetries_WhenTheDatabaseRefusesTheWrite()
    {
        var ct = TestContext.Current.CancellationToken;
        var crawl = Crawls.Crawled("REFUSED", "yahoo", Crawls.Article(1));
        await ExecuteAsync(
            "CREATE TRIGGER `ingest_retry_test_refusal` BEFORE INSERT ON `crawl_runs` FOR EACH ROW " +
            "IF NEW.`symbol` = 'REFUSED' THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'crawl_runs refuses REFUSED'; END IF", ct);
        string retryCount;
        try
        {
            await storage.PublishAsync(crawl);
            retryCount = await TakeFaultRetryCountAsync(crawl.CrawlId, ct);
        }
        finally
        {
            await ExecuteAsync("DROP TRIGGER IF EXISTS `ingest_retry_test_refusal`", CancellationToken.None);
        }

        // Ingest:RetryLimit (5 by default), not the outage policy's Ingest:OutageRetryLimit.
        retryCount.ShouldBe("5");
        (await storage.CountAsync("crawl_runs")).ShouldBe(0);
    }

    private async Task ExecuteAsync(string sql, CancellationToken ct)
    {
        await using var connection = new MySqlConnection(storage.ConnectionString);
        await connection.OpenAsync(ct);
        await using var command = new MySqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(ct);
    }

    // Takes the crawl's message off the error queue (which exists only once something failed) and answers its MT-Fault-RetryCount.
    private async Task<string> TakeFaultRetryCountAsync(Guid crawlId, CancellationToken ct)
    {
        await using var connection = await new ConnectionFactory { Uri = storage.Broker }.CreateConnectionAsync(ct);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (true)
        {
            await using var channel = await connection.CreateChannelAsync(cancellationToken: ct);
            try
            {
                while (await channel.BasicGetAsync(ErrorQueue, autoAck: true, ct) is { } delivery)
                {
                    if (Encoding.UTF8.GetString(delivery.Body.Span).Contains(crawlId.ToString(), StringComparison.Ordinal))
                    {
                        return delivery.BasicProperties.Headers?["MT-Fault-RetryCount"] switch
                        {
                            byte[] bytes => Encoding.UTF8.GetString(bytes),
                            { } other => other.ToString()!,
                            null => "(none)",
                        };
                    }
                }
            }
            catch (OperationInterruptedException)
            {
                // The error queue does not exist yet.
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Crawl {crawlId} did not reach {ErrorQueue} within 90 s.");
            }
            await Task.Delay(250, ct);
        }
    }
}
