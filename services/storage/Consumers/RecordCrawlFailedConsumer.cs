using Finstage.Contracts;
using Finstage.Storage.Writing;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Finstage.Storage.Consumers;

/// <summary>Records a failed crawl as a crawl run with its reason.</summary>
public sealed class RecordCrawlFailedConsumer(NewsWriter writer, ILogger<RecordCrawlFailedConsumer> logger) : IConsumer<CrawlFailed>
{
    public async Task Consume(ConsumeContext<CrawlFailed> context)
    {
        var failure = context.Message;
        await writer.RecordFailureAsync(failure, context.CancellationToken);
        logger.LogInformation(
            "Recorded failed crawl {CrawlId} of {Source}/{Symbol}: {Reason}",
            failure.CrawlId, failure.Source, failure.Symbol, failure.Reason);
    }
}

/// <summary>Retry of <see cref="RecordCrawlFailedConsumer"/>, from <see cref="IngestOptions"/>.</summary>
public sealed class RecordCrawlFailedConsumerDefinition(IOptions<IngestOptions> options) : ConsumerDefinition<RecordCrawlFailedConsumer>
{
    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<RecordCrawlFailedConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        consumerConfigurator.UseIngestRetry(options.Value);
    }
}
