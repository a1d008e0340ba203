using Finstage.Contracts;
using Finstage.ServiceDefaults;
using Finstage.Storage.Writing;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Finstage.Storage.Consumers;

/// <summary>Writes batches of crawl results, one transaction per batch.</summary>
public sealed class StoreNewsCrawledConsumer(NewsWriter writer, ILogger<StoreNewsCrawledConsumer> logger) : IConsumer<Batch<NewsCrawled>>
{
    public async Task Consume(ConsumeContext<Batch<NewsCrawled>> context)
    {
        var crawls = context.Message.Select(message => message.Message).ToList();
        using var spans = new CrawlResultSpans([.. context.Message]);
        var runs = await writer.StoreAsync(crawls, context.CancellationToken);
        spans.Complete(runs);
        logger.LogInformation(
            "Stored {CrawlCount} crawl results: {NewCount} new and {SeenCount} seen articles",
            crawls.Count, runs.Sum(run => run.NewArticles), runs.Sum(run => run.SeenArticles));
    }
}

/// <summary>
/// Prefetch, batch size, concurrency and retry of <see cref="StoreNewsCrawledConsumer"/>, from
/// <see cref="IngestOptions"/> within its byte budget (<see cref="IngestLimits"/>).
/// </summary>
public sealed class StoreNewsCrawledConsumerDefinition : ConsumerDefinition<StoreNewsCrawledConsumer>
{
    private readonly IngestOptions _options;
    private readonly IngestLimits _limits;

    public StoreNewsCrawledConsumerDefinition(IOptions<IngestOptions> options, IOptions<BusOptions> bus)
    {
        _options = options.Value;
        _limits = IngestLimits.From(_options, bus.Value.MaxMessageBytes);
        Endpoint(endpoint => endpoint.PrefetchCount = _limits.PrefetchCount);
    }

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<StoreNewsCrawledConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        consumerConfigurator.Options<BatchOptions>(batch => batch
            .SetMessageLimit(_limits.BatchSize)
            .SetTimeLimit(_options.BatchTimeLimit)
            .SetConcurrencyLimit(_limits.ConcurrentBatches));
        // A retry holds its batch's slot while it waits: short ones, but patient ones while the
        // database is away, since then no batch could be written anyway.
        consumerConfigurator.UseIngestRetry(_options);
    }
}
