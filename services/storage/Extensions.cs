using Finstage.ServiceDefaults;
using Finstage.Storage.Apis;
using Finstage.Storage.Consumers;
using Finstage.Storage.Events;
using Finstage.Storage.Infrastructure;
using Finstage.Storage.Reading;
using Finstage.Storage.Stream;
using Finstage.Storage.Writing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Scalar.AspNetCore;

namespace Finstage.Storage;

/// <summary>The storage service's wiring: database, consumers, read API.</summary>
public static class Extensions
{
    public static WebApplicationBuilder AddStorage(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<DatabaseOptions>().BindConfiguration(DatabaseOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<IngestOptions>().BindConfiguration(IngestOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<ReadOptions>().BindConfiguration(ReadOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<StorageConnection>()
            .Configure<IConfiguration, IOptions<DatabaseOptions>, IOptions<ReadOptions>>((connection, configuration, database, reads) =>
            {
                connection.ConnectionString = configuration.GetConnectionString("Storage") is { Length: > 0 } configured
                    ? database.Value.BuildConnectionString(configured)
                    : null;
                connection.ReadConnectionString = connection.ConnectionString is { } ingest ? reads.Value.BuildConnectionString(ingest) : null;
            })
            .Validate(connection => connection.ConnectionString is not null, "ConnectionStrings:Storage must name the news database.")
            .ValidateOnStart();

        services.AddPooledDbContextFactory<NewsDbContext>((provider, options) =>
        {
            var database = provider.GetRequiredService<IOptions<DatabaseOptions>>().Value;
            database.UseFor(options, provider.GetRequiredService<IOptions<StorageConnection>>().Value.ConnectionString!);
        });
        services.AddSingleton<WriteSessions>();
        services.AddSingleton<ReadSessions>();
        services.AddSingleton<NewsWriter>();
        services.AddSingleton<NewsReader>();
        services.AddSingleton<StorageMetrics>();
        services.AddSingleton(TimeProvider.System);
        services.AddNewsStream();
        // Before the bus and the server: the schema is the migrate step's (NewsDatabaseMigrations), and must be current.
        services.AddHostedService<RequireMigratedDatabase>();
        // MySqlConnector reports every command (EF Core's and the raw upserts alike) and its pool.
        services.AddOpenTelemetry()
            .WithTracing(tracing => tracing.AddSource("MySqlConnector"))
            .WithMetrics(metrics => metrics.AddMeter("MySqlConnector"));
        // A database that hangs rather than refuses must not hang the probe (the connect timeout is a minute). It asks
        // through the ingest pool, which readers cannot exhaust: a flood of reads is not "not ready".
        services.AddHealthChecks().AddCheck<NewsDatabaseHealthCheck>(
            "news-database", tags: [ServiceDefaults.Extensions.ReadyTag], timeout: TimeSpan.FromSeconds(5));

        builder.AddFinstageBus(bus =>
        {
            bus.AddConsumer<StoreNewsCrawledConsumer>(typeof(StoreNewsCrawledConsumerDefinition));
            bus.AddConsumer<RecordCrawlFailedConsumer>(typeof(RecordCrawlFailedConsumerDefinition));
            bus.AddConsumer<ArticlesStoredStreamConsumer>(typeof(ArticlesStoredStreamConsumerDefinition));
        });
        services.AddArticleEvents();

        services.AddProblemDetails();
        // The read API's types from generated code (enums by name, as StorageJsonContext says). No
        // converter in the options themselves: any would keep System.Text.Json off the generated fast path.
        services.ConfigureHttpJsonOptions(json => json.SerializerOptions.TypeInfoResolverChain.Insert(0, StorageJsonContext.Default));
        services.AddOpenApi();
        return builder;
    }

    public static WebApplication MapStorage(this WebApplication app)
    {
        app.UseProblemResponses();
        app.MapOpenApi();
        app.MapScalarApiReference();
        app.MapNewsPage();
        app.MapNewsApi();
        app.MapNewsStream();
        return app;
    }
}
