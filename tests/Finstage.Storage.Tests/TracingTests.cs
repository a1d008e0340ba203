using System.Collections.ObjectModel;
using System.Diagnostics;
using System.Net;
using Finstage.Contracts;
using Finstage.Testing;
using MassTransit;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;

namespace Finstage.Storage.Tests;

/// <summary>
/// Spans are recorded only when an exporter is configured; without one, trace ids still travel from
/// a publisher through RabbitMQ to the consumer, so a crawl's log lines share one trace id.
/// (No test here keeps an <see cref="ActivityListener"/> of its own open: it would record everything.)
/// </summary>
public sealed class TracingTests(StorageFixture storage) : IAsyncLifetime
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => await storage.ResetAsync();

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    [Fact(Timeout = 90_000)]
    public async Task Tracing_RecordsNoSpans_WhenNoExporterIsConfigured()
    {
        var spans = new Spans();
        var host = StartWithSpansIn(spans, new Dictionary<string, string?>());

        await GetNewsAsync(host);
        // Stopping the host ends every span there is and shuts the tracer down.
        await host.DisposeAsync();

        spans.ShouldBeEmpty();
    }

    [Fact(Timeout = 90_000)]
    public async Task Tracing_RecordsTheRequestAndItsQuery_WhenAnExporterIsConfigured()
    {
        var spans = new Spans();
        // A collector address on loopback that nothing answers: exports fail, recording does not.
        await using var host = StartWithSpansIn(spans, new Dictionary<string, string?>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:9",
            ["OTEL_EXPORTER_OTLP_TIMEOUT"] = "1000",
        });

        await GetNewsAsync(host);

        var recorded = await Eventually.WaitForAsync(
            () => Task.FromResult(spans.Snapshot()),
            found => found.Any(span => span.Source.Name == "MySqlConnector") && found.Any(span => span.Kind == ActivityKind.Server),
            TimeSpan.FromSeconds(30), "the request's and the query's spans", Cancel);
        var request = recorded.First(span => span.Kind == ActivityKind.Server);
        recorded.ShouldContain(span => span.Source.Name == "MySqlConnector" && span.TraceId == request.TraceId);
    }

    [Fact(Timeout = 90_000)]
    public async Task Tracing_CarriesTheTraceIdThroughRabbitMq_WhenNoExporterIsConfigured()
    {
        await using var probe = await MessageProbe<NewsCrawled>.StartAsync(storage.Broker, "storage-tests-tracing-probe", Cancel);
        // The trace a job of the scheduler would have started; no listener records it.
        using var job = new Activity("job").SetIdFormat(ActivityIdFormat.W3C).Start();

        await storage.Services.GetRequiredService<IBus>().Publish(Crawls.Crawled("AAPL", "yahoo", Crawls.Article(1)), Cancel);

        var received = await probe.WaitForAsync(1, crawl => crawl.Symbol == "AAPL", TimeSpan.FromSeconds(60), Cancel);
        received[0].TraceId.ShouldBe(job.TraceId);
        // The service's own consumer stores it too; let it finish before the next test resets the tables.
        await Eventually.WaitForAsync(() => storage.CountAsync("crawl_runs"), count => count == 1, TimeSpan.FromSeconds(60), "the crawl run", Cancel);
    }

    private WebApplicationFactory<Program> StartWithSpansIn(Spans spans, Dictionary<string, string?> settings)
    {
        var host = new WebApplicationFactory<Program>().WithWebHostBuilder(web =>
        {
            StorageFixture.Configure(web, storage.ConnectionString, storage.Broker, settings);
            web.ConfigureServices(services => services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(spans)));
        });
        _ = host.Services;
        return host;
    }

    private static async Task GetNewsAsync(WebApplicationFactory<Program> host)
    {
        using var client = host.CreateClient();
        using var response = await client.GetAsync(new Uri("/api/news?symbol=AAPL", UriKind.Relative), Cancel);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    // The exporter adds from whichever thread ends a span (a request, the outbox relay in the background), so adding
    // and copying share one lock; a plain list was corrupted by two spans ending at once.
    private sealed class Spans : Collection<Activity>
    {
        private readonly Lock _gate = new();

        public List<Activity> Snapshot()
        {
            lock (_gate)
            {
                return [.. this];
            }
        }

        protected override void InsertItem(int index, Activity item)
        {
            lock (_gate)
            {
                base.InsertItem(index, item);
            }
        }
    }
}
