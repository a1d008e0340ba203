using System.Collections.Concurrent;
using Finstage.Contracts;
using Finstage.Storage.Events;
using Finstage.Storage.Infrastructure;
using Finstage.Testing;
using MassTransit;
using MySqlConnector;

namespace Finstage.Storage.Tests;

/// <summary>
/// Issue 16 from end to end, every link real: a <see cref="NewsCrawled"/> published on RabbitMQ to the storage (its own
/// process) → the articles committed → the outbox relay publishes <see cref="ArticlesStored"/> → a subscriber of another
/// service's kind (a queue of its own bound to the event's exchange) gets it, and the storage's own stream queue feeds
/// <c>/api/news/stream</c> → the connected clients. The other stream tests publish <see cref="ArticlesStored"/> themselves;
/// here nothing is published but the crawl results.
/// </summary>
[Trait("Category", "Reliability")]
public sealed class NewsStreamEndToEndTests(StreamFixture fixture) : IClassFixture<StreamFixture>
{
    // Generous: the relay is woken by the commit and the stream takes milliseconds, but the machine is shared by many builds.
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact(Timeout = 300_000)]
    public async Task Storage_StreamsEachNewArticleAndPublishesOneStableEvent_WhenACrawlResultArrivesOverRabbitMq()
    {
        var ct = TestContext.Current.CancellationToken;
        var subscribed = new ConcurrentQueue<(Guid? MessageId, ArticlesStored Event)>();
        await using var subscriber = await SubscriberAsync(subscribed, ct);
        using var http = SseConnection.CreateClient(fixture.Storage.BaseAddress);
        using var wanted = await SseConnection.OpenAsync(http, "/api/news/stream?symbol=E2EX", ct);
        using var other = await SseConnection.OpenAsync(http, "/api/news/stream?symbol=E2EY", ct);

        // An article stored before: a later crawl that finds it again streams only what is new.
        var earlier = Crawls.Crawled("E2EX", "yahoo", Article(1));
        await fixture.Bus.PublishAsync(earlier, ct);
        (await wanted.ReadEventsAsync(1, Patience, ct)).Single().Field("url").ShouldBe(Article(1).Url);

        var crawl = Crawls.Crawled("E2EX", "yahoo", Article(1), Article(2), Article(3));
        await fixture.Bus.PublishAsync(crawl, ct);
        var streamed = await wanted.ReadEventsAsync(2, Patience, ct);
        await Eventually.WaitForAsync(() => Task.FromResult(subscribed.Count), count => count >= 2, Patience, "two ArticlesStored events", ct);

        // The subscriber's event: one per crawl result with new articles, its id the outbox's and a function of the crawl id
        // alone (the same on every retry), carried as the message id too, so a subscriber can de-duplicate on either.
        var events = subscribed.ToList();
        events.Select(e => e.Event.CrawlId).ShouldBe([earlier.CrawlId, crawl.CrawlId]);
        var (messageId, stored) = events[1];
        stored.EventId.ShouldBe(ArticleEventOutbox.EventIdOf(crawl.CrawlId));
        stored.EventId.ShouldBe(await EventIdInOutboxAsync(crawl.CrawlId, ct));
        messageId.ShouldBe(stored.EventId);
        (stored.Symbol, stored.Source, stored.CycleId).ShouldBe(("E2EX", "yahoo", crawl.CycleId));
        stored.Articles.Select(a => (a.Id, a.Url, a.Title)).ShouldBe([Expected(2), Expected(3)]);

        // The stream: one event per new article, as the event carried it, its position the event's sequence and index.
        streamed.Select(e => (e.Field("id"), e.Field("url"), e.Field("title"))).ShouldBe([Expected(2), Expected(3)]);
        streamed.Select(e => e.Id).ShouldBe([$"{stored.Sequence}-0", $"{stored.Sequence}-1"]);
        streamed.ShouldAllBe(e => e.Event == "article" && e.Field("symbol") == "E2EX" && e.Field("source") == "yahoo");

        // The client of another symbol got none of it: the first event it receives is the first of its own symbol,
        // published after every E2EX article had reached the other client through the same queue, in order.
        var theirs = Crawls.Crawled("E2EY", "nasdaq", Article(4));
        await fixture.Bus.PublishAsync(theirs, ct);
        var first = (await other.ReadEventsAsync(1, Patience, ct)).Single();
        (first.Field("id"), first.Field("url"), first.Field("title")).ShouldBe(Expected(4));
        first.Field("symbol").ShouldBe("E2EY");
    }

    private static NewsArticle Article(int n) => Crawls.Article(n) with { Url = $"https://news.example.com/e2e/story-{n}", Title = $"End-to-end story {n}" };

    private static (string Id, string Url, string Title) Expected(int n) =>
        (ArticleId.ToHex(ArticleId.FromUrl(Article(n).Url)), Article(n).Url, Article(n).Title);

    /// <summary>A bus of another service's kind: a queue of its own bound to the <see cref="ArticlesStored"/> exchange.</summary>
    private async Task<IAsyncDisposable> SubscriberAsync(ConcurrentQueue<(Guid? MessageId, ArticlesStored Event)> received, CancellationToken ct)
    {
        var bus = Bus.Factory.CreateUsingRabbitMq(rabbit =>
        {
            rabbit.Host(fixture.VirtualHost);
            rabbit.ReceiveEndpoint("e2e-subscriber-" + Guid.NewGuid().ToString("N")[..8], endpoint =>
            {
                endpoint.AutoDelete = true;
                endpoint.Durable = false;
                endpoint.Handler<ArticlesStored>(context =>
                {
                    received.Enqueue((context.MessageId, context.Message));
                    return Task.CompletedTask;
                });
            });
        });
        await bus.StartAsync(ct);
        return new StoppingBus(bus);
    }

    private async Task<Guid> EventIdInOutboxAsync(Guid crawlId, CancellationToken ct)
    {
        await using var connection = new MySqlConnection(fixture.Database);
        await connection.OpenAsync(ct);
        await using var command = new MySqlCommand("SELECT `event_id` FROM `article_events` WHERE `crawl_id` = @crawl", connection);
        command.Parameters.AddWithValue("@crawl", crawlId);
        return (Guid)(await command.ExecuteScalarAsync(ct))!;
    }

    private sealed class StoppingBus(IBusControl bus) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() => await bus.StopAsync(CancellationToken.None);
    }
}
