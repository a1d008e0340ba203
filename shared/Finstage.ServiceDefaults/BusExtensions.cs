using Finstage.Contracts;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Finstage.ServiceDefaults;

/// <summary>The MassTransit-over-RabbitMQ set-up every service shares.</summary>
public static class BusExtensions
{
    /// <summary>
    /// Adds the bus: kebab-case queue names, usage telemetry off, broker from configuration,
    /// endpoints from the consumers that <paramref name="configure"/> registers.
    /// </summary>
    public static TBuilder AddFinstageBus<TBuilder>(this TBuilder builder, Action<IBusRegistrationConfigurator> configure)
        where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddOptions<BusOptions>()
            .BindConfiguration(BusOptions.SectionName)
            .Configure<IConfiguration>((options, configuration) =>
                options.ConnectionString ??= configuration.GetConnectionString("RabbitMq"))
            .ValidateDataAnnotations()
            .ValidateOnStart();

        // Publishing before the bus is connected loses messages (no queue is bound yet), so the
        // host does not report started until the bus is.
        builder.Services.AddOptions<MassTransitHostOptions>()
            .Configure<IOptions<BusOptions>>((host, bus) =>
            {
                host.WaitUntilStarted = true;
                host.StartTimeout = bus.Value.StartTimeout;
                host.StopTimeout = TimeSpan.FromSeconds(30);
            });

        var connectionName = builder.Environment.ApplicationName;
        builder.Services.AddMassTransit(bus =>
        {
            bus.DisableUsageTelemetry();
            bus.SetKebabCaseEndpointNameFormatter();
            configure(bus);
            bus.UsingRabbitMq((context, rabbit) =>
            {
                var options = context.GetRequiredService<IOptions<BusOptions>>().Value;
                rabbit.Host(new Uri(options.ConnectionString!), host => host.ConnectionName(connectionName));
                // Poison never reaches a consumer: an oversized body is refused before it is parsed, a
                // message that breaks its contract before any consumer or batch sees it; both go to the
                // queue's _error queue at once (docs/reliability.md).
                rabbit.AddDeserializer(new BodySizeCapSerializerFactory(options.MaxMessageBytes), isDefault: true);
                rabbit.UseFilter(new ContractFilter<CrawlRequested>(MessageRules.Violations));
                rabbit.UseFilter(new ContractFilter<NewsCrawled>(MessageRules.Violations));
                rabbit.UseFilter(new ContractFilter<CrawlFailed>(MessageRules.Violations));
                rabbit.ConfigureEndpoints(context);
            });
        });
        return builder;
    }

    /// <summary>A token that ends a publish after <see cref="BusOptions.PublishTimeout"/>, or earlier with <paramref name="cancellationToken"/>.</summary>
    public static CancellationTokenSource PublishDeadline(this IOptions<BusOptions> options, CancellationToken cancellationToken)
    {
        var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(options.Value.PublishTimeout);
        return deadline;
    }
}
