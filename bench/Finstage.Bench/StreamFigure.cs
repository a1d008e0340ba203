extern alias storage;

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Finstage.Contracts;
using Finstage.Testing;
using MassTransit;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Finstage.Bench;

/// <summary>
/// p10, the push path of issue 16. Latency: with <see cref="BenchSettings.StreamClients"/> clients on
/// <c>/api/news/stream</c>, the time from the commit of an article's batch to its SSE event at each client, for
/// crawl results published one at a time to the storage's queue (the whole path: outbox row, relay, broker, the
/// instance's stream queue, the client's buffer, Kestrel, loopback). Memory: the storage as a process of its own, its
/// resident memory with <see cref="BenchSettings.StreamMemoryClients"/> streams held against none, per stream.
/// </summary>
public static class StreamFigure
{
    private const string StoreSpan = "store crawl result";

    public static async Task RunAsync(BenchSettings settings, Report report, CancellationToken ct)
    {
        await LatencyAsync(settings, report, ct);
        await MemoryAsync(settings, report, ct);
    }

    private static async Task LatencyAsync(BenchSettings settings, Report report, CancellationToken ct)
    {
        // The commit's time: the storage's "store crawl result" span of each crawl gets a "committed" event as soon as its
        // batch's transaction has committed (services/storage/Consumers/CrawlResultSpans.cs). The storage runs in this
        // process, so this listener sees it, on the same clock as the clients' arrival times. Listening to MassTransit
        // too makes the bench's publish carry a trace header, which the storage needs to open the span at all.
        var commits = new ConcurrentDictionary<Guid, DateTime>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is "Finstage" or "MassTransit",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (activity.OperationName == StoreSpan && activity.GetTagItem("finstage.crawl.id") is Guid crawlId
                    && activity.Events.FirstOrDefault(e => e.Name == "committed") is { Name: not null } committed)
                {
                    commits[crawlId] = committed.Timestamp.UtcDateTime;
                }
            },
        };
        ActivitySource.AddActivityListener(listener);

        var database = await TestServers.CreateDatabaseAsync("finstage_bench_stream", ct);
        var virtualHost = await TestServers.CreateVirtualHostAsync("finstage-bench", ct);
        await using var factory = await ServiceHosts.StorageAsync(database, virtualHost.ToString(), start: false);
        // Real HTTP over loopback, as a client would see it, not the in-memory test server.
        factory.UseKestrel(FreePort());
        factory.StartServer();
        var address = factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        using var http = SseConnection.CreateClient(new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal).Replace("localhost", "127.0.0.1", StringComparison.Ordinal)));
        await using var publisher = await BenchBus.StartAsync(virtualHost);
        // Where the time goes: the same event at a subscriber queue of the bench's own, bound to the event's exchange as the
        // storage's stream queue is: commit to there is the outbox relay and the broker; the rest is the stream itself.
        var relayed = new ConcurrentDictionary<Guid, DateTime>();
        var subscriber = MassTransit.Bus.Factory.CreateUsingRabbitMq(rabbit =>
        {
            rabbit.Host(virtualHost);
            rabbit.ReceiveEndpoint("bench-articles-stored", endpoint =>
            {
                endpoint.AutoDelete = true;
                endpoint.Durable = false;
                endpoint.Handler<ArticlesStored>(context =>
                {
                    relayed.TryAdd(context.Message.CrawlId, DateTime.UtcNow);
                    return Task.CompletedTask;
                });
            });
        });
        await subscriber.StartAsync(ct);

        // Every client wants every article: each one is a frame to every client, the stream's heaviest case per article.
        var arrivals = new ConcurrentDictionary<string, ConcurrentBag<DateTime>>(StringComparer.Ordinal);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var clients = new List<SseConnection>();
        var readers = new List<Task>();
        try
        {
            for (var i = 0; i < settings.StreamClients; i++)
            {
                var client = await SseConnection.OpenAsync(http, "/api/news/stream", ct);
                clients.Add(client);
                readers.Add(Task.Run(() => ReadAsync(client, arrivals, stop.Token), CancellationToken.None));
            }

            var warmUp = settings.Quick ? 5 : 20;
            var latencies = new List<double>();
            var firstClient = new List<double>();
            var lastClient = new List<double>();
            var toSubscriber = new List<double>();
            for (var n = 0; n < warmUp + settings.StreamArticles; n++)
            {
                var crawl = Crawl(n);
                var url = crawl.Articles[0].Url;
                await publisher.Bus.Publish(crawl, ct);
                await Measure.UntilAsync(() => Task.FromResult((long)(arrivals.TryGetValue(url, out var got) ? got.Count : 0)),
                    settings.StreamClients, Stopwatch.StartNew(), TimeSpan.FromSeconds(60), $"article {n} at every client", ct, pollMs: 5);
                var committed = await WaitForCommitAsync(commits, crawl.CrawlId, ct);
                if (n < warmUp)
                {
                    continue;
                }
                var times = arrivals[url].Select(arrived => (arrived - committed).TotalMilliseconds).Order().ToList();
                latencies.AddRange(times);
                firstClient.Add(times[0]);
                if (relayed.TryGetValue(crawl.CrawlId, out var atSubscriber))
                {
                    toSubscriber.Add((atSubscriber - committed).TotalMilliseconds);
                }
                lastClient.Add(times[^1]);
                // A pause, so that each article is measured alone: the figure is the push path's latency, not a queue's.
                await Task.Delay(settings.Quick ? 20 : 50, ct);
            }

            report.Raw("p10_event_latency_p95_ms", Measure.Percentile(latencies, 95));
            report.Raw("p10_event_latency_p99_ms", Measure.Percentile(latencies, 99));
            report.Raw("p10_event_latency_max_ms", latencies.Max());
            report.Raw("p10_first_client_p50_ms", Measure.Percentile(firstClient, 50));
            report.Raw("p10_last_client_p50_ms", Measure.Percentile(lastClient, 50));
            report.Raw("p10_deliveries", latencies.Count);
            report.Raw("p10_commit_to_subscriber_p50_ms", Measure.Percentile(toSubscriber, 50));
            report.Raw("p10_commit_to_subscriber_p95_ms", Measure.Percentile(toSubscriber, 95));
            report.Figure("p10_event_latency_ms", Measure.Percentile(latencies, 50));
        }
        finally
        {
            await subscriber.StopAsync(CancellationToken.None);
            await stop.CancelAsync();
            foreach (var client in clients)
            {
                client.Dispose();
            }
            await Task.WhenAll(readers.Select(reader => reader.ContinueWith(_ => { }, TaskScheduler.Default)));
        }
    }

    // Each article's arrival time at this client, taken as soon as its frame is read, before its JSON is looked at.
    private static async Task ReadAsync(SseConnection client, ConcurrentDictionary<string, ConcurrentBag<DateTime>> arrivals, CancellationToken ct)
    {
        while (await client.ReadFrameAsync(ct) is { } frame)
        {
            var arrived = DateTime.UtcNow;
            if (frame.Event == "article")
            {
                arrivals.GetOrAdd(frame.Field("url"), _ => []).Add(arrived);
            }
        }
    }

    // The span stops just after the commit's event, and the SSE event usually overtakes that: wait for it briefly.
    private static async Task<DateTime> WaitForCommitAsync(ConcurrentDictionary<Guid, DateTime> commits, Guid crawlId, CancellationToken ct)
    {
        var deadline = Stopwatch.StartNew();
        DateTime committed;
        while (!commits.TryGetValue(crawlId, out committed))
        {
            if (deadline.Elapsed > TimeSpan.FromSeconds(30))
            {
                throw new TimeoutException($"No committed event on the storage's span of crawl {crawlId}: is the span still opened by a publish with a trace header?");
            }
            await Task.Delay(5, ct);
        }
        return committed;
    }

    private static async Task MemoryAsync(BenchSettings settings, Report report, CancellationToken ct)
    {
        const int Events = 20;
        const int ArticlesPerEvent = 5;
        var database = await TestServers.CreateDatabaseAsync("finstage_bench_stream_memory", ct);
        var virtualHost = await TestServers.CreateVirtualHostAsync("finstage-bench", ct);
        var storageDll = Repository.ProjectOutput("services/storage", "Finstage.Storage");
        await ServiceProcess.RunCommandAsync("storage", storageDll, ["migrate"],
            new Dictionary<string, string?> { ["ConnectionStrings:StorageMigrations"] = database }, ct);
        await using var storage = await ServiceProcess.StartAsync("storage", storageDll, new Dictionary<string, string?>
        {
            ["ConnectionStrings:Storage"] = TestServers.AsRuntimeUser(database),
            ["ConnectionStrings:RabbitMq"] = virtualHost.ToString(),
            ["Logging:LogLevel:Default"] = "Warning",
        }, ct);
        await using var publisher = await BenchBus.StartAsync(virtualHost);
        using var http = SseConnection.CreateClient(storage.BaseAddress);

        // Warm: a stream and an event through, so that "none" includes what the first stream loads (code, pools).
        var sequence = 0;
        using (var warm = await SseConnection.OpenAsync(http, "/api/news/stream", ct))
        {
            await publisher.Bus.Publish(Stored(++sequence, ArticlesPerEvent), ct);
            await warm.ReadEventsAsync(ArticlesPerEvent, TimeSpan.FromSeconds(60), ct);
        }
        await Task.Delay(TimeSpan.FromSeconds(2), ct);
        var idle = storage.ResidentMegabytes!.Value;

        var clients = new List<SseConnection>(settings.StreamMemoryClients);
        try
        {
            foreach (var batch in Enumerable.Range(0, settings.StreamMemoryClients).Chunk(50))
            {
                clients.AddRange(await Task.WhenAll(batch.Select(_ => SseConnection.OpenAsync(http, "/api/news/stream", ct))));
            }
            await Task.Delay(TimeSpan.FromSeconds(2), ct);
            var held = storage.ResidentMegabytes!.Value;

            // Then traffic: every client reads 100 articles, so each stream's buffers and frames have been used.
            var readers = clients.Select(client => client.ReadEventsAsync(Events * ArticlesPerEvent, TimeSpan.FromMinutes(10), ct)).ToList();
            for (var i = 0; i < Events; i++)
            {
                await publisher.Bus.Publish(Stored(++sequence, ArticlesPerEvent), ct);
            }
            await Task.WhenAll(readers);
            await Task.Delay(TimeSpan.FromSeconds(2), ct);
            var streamed = storage.ResidentMegabytes!.Value;

            report.Raw("p10_storage_rss_idle_mb", idle);
            report.Raw("p10_storage_rss_held_mb", held);
            report.Raw("p10_storage_rss_streamed_mb", streamed);
            report.Raw("p10_storage_rss_peak_mb", storage.PeakResidentMegabytes!.Value);
            report.Raw("p10_stream_bytes_per_client_connected", (held - idle) * 1024 * 1024 / settings.StreamMemoryClients);
            report.Raw("p10_stream_bytes_per_client", (Math.Max(held, streamed) - idle) * 1024 * 1024 / settings.StreamMemoryClients);
        }
        finally
        {
            foreach (var client in clients)
            {
                client.Dispose();
            }
        }
    }

    private static NewsCrawled Crawl(int n)
    {
        var url = string.Create(CultureInfo.InvariantCulture, $"https://news.example.com/stream/{Guid.NewGuid():N}/{n}");
        return new NewsCrawled(Guid.NewGuid(), Guid.NewGuid(), "bench", "STREAM" + (n % 10).ToString(CultureInfo.InvariantCulture),
            DateTimeOffset.UtcNow, TimeSpan.FromMilliseconds(100), 200, false,
            [new NewsArticle(url, $"Stream story {n}: what moved the market", "A sentence or two, as feeds carry them.", DateTimeOffset.UtcNow,
                "Reporter", "Bench News", null, $"stream-{n}")]);
    }

    private static ArticlesStored Stored(int sequence, int articles) =>
        new(Guid.NewGuid(), sequence, Guid.NewGuid(), Guid.NewGuid(), "bench", "STREAM", DateTimeOffset.UtcNow,
            [.. Enumerable.Range(0, articles).Select(i => new StoredArticle(
                Guid.NewGuid().ToString("N"),
                string.Create(CultureInfo.InvariantCulture, $"https://news.example.com/memory/{sequence}/{i}"),
                string.Create(CultureInfo.InvariantCulture, $"Memory story {sequence}.{i}: what moved the market"),
                DateTimeOffset.UtcNow,
                "Bench News"))]);

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
