using Finstage.Contracts;
using Finstage.ServiceDefaults;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;

namespace Finstage.Crawler.Fetching;

/// <summary>
/// Reads how many crawl requests wait in the crawler's two queues every 10 s (a passive declare, which
/// answers the broker's own count at once; the management API's figures trail by its statistics
/// interval) for <c>finstage.crawl.queue.depth</c>. MassTransit reports what it consumes, not what waits.
/// </summary>
public sealed class CrawlQueueDepth(IOptions<BusOptions> bus, CrawlerMetrics metrics, ILogger<CrawlQueueDepth> logger) : BackgroundService
{
    /// <summary>The scheduled queue (the kebab-case name of <c>FetchNewsConsumer</c>) and the one for crawls by hand.</summary>
    internal static readonly string[] QueueNames = ["fetch-news", Queues.ManualCrawls];

    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var factory = new ConnectionFactory
        {
            Uri = new Uri(bus.Value.ConnectionString!),
            ClientProvidedName = "finstage-crawler-queue-depth",
            // Reconnected by the loop below at its own pace, not by the client in the background.
            AutomaticRecoveryEnabled = false,
        };
        IConnection? connection = null;
        using var timer = new PeriodicTimer(Interval);
        try
        {
            do
            {
                try
                {
                    connection ??= await factory.CreateConnectionAsync(stoppingToken);
                    foreach (var queue in QueueNames)
                    {
                        metrics.SetQueueDepth(queue, await CountAsync(connection, queue, stoppingToken));
                    }
                }
                catch (Exception exception) when (exception is not OperationCanceledException)
                {
                    // The broker is away: no figure rather than an old one; the bus's own health check says why.
                    logger.LogDebug(exception, "Could not read the crawl queues' depth");
                    foreach (var queue in QueueNames)
                    {
                        metrics.SetQueueDepth(queue, null);
                    }
                    if (connection is not null)
                    {
                        await connection.DisposeAsync();
                        connection = null;
                    }
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
        finally
        {
            if (connection is not null)
            {
                await connection.DisposeAsync();
            }
        }
    }

    // A channel per queue: a passive declare of a queue not there yet (the bus declares them) closes its channel.
    private static async Task<long?> CountAsync(IConnection connection, string queue, CancellationToken cancellationToken)
    {
        await using var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
        try
        {
            return (await channel.QueueDeclarePassiveAsync(queue, cancellationToken)).MessageCount;
        }
        catch (RabbitMQ.Client.Exceptions.OperationInterruptedException)
        {
            return null;
        }
    }
}
