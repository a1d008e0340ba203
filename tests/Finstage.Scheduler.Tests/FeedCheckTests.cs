using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Finstage.Contracts;
using MassTransit;

namespace Finstage.Scheduler.Tests;

/// <summary>
/// A feed URL put on the watchlist is accepted only after the crawler has fetched and parsed it once (<see cref="CheckFeed"/>):
/// here a stand-in crawler on the test's broker answers, so the scheduler's side is seen alone.
/// </summary>
[Trait("Category", "Reliability")]
[Trait("Category", "Security")]
public sealed class FeedCheckTests(SchedulerFixture scheduler)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact(Timeout = 120_000)]
    public async Task Put_RefusesTheFeedWithTheCrawlersReason_AndAcceptsAndCrawlsAGoodOne_WhenAUrlIsAdded()
    {
        var checks = new List<string>();
        var crawler = Bus.Factory.CreateUsingRabbitMq(rabbit =>
        {
            rabbit.Host(scheduler.Broker);
            rabbit.ReceiveEndpoint("scheduler-tests-check-feed", endpoint => endpoint.Handler<CheckFeed>(context =>
            {
                lock (checks)
                {
                    checks.Add(context.Message.FeedUrl);
                }
                return context.RespondAsync(context.Message.FeedUrl.Contains("internal", StringComparison.Ordinal)
                    ? new FeedChecked(context.Message.CheckId, context.Message.FeedUrl, false, CrawlFailureReason.BlockedAddress,
                        "10.0.0.7 is a private address; the crawler does not connect to it.", null, 0, null)
                    : new FeedChecked(context.Message.CheckId, context.Message.FeedUrl, true, null, null, 200, 12, "Example news"));
            }));
        });
        await crawler.StartAsync(Cancel);
        using var client = scheduler.Factory.CreateClient();
        try
        {
            using var refused = await client.PutAsJsonAsync("/api/watchlist/feed/internal", new { feedUrl = "http://internal.example/rss" }, Cancel);
            refused.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
            var problem = await refused.Content.ReadFromJsonAsync<JsonElement>(Cancel);
            problem.GetProperty("errors").GetProperty("feedUrl")[0].GetString().ShouldNotBeNull()
                .ShouldContain("BlockedAddress: 10.0.0.7 is a private address");
            using var missing = await client.GetAsync(new Uri("/api/watchlist/feed/internal", UriKind.Relative), Cancel);
            missing.StatusCode.ShouldBe(HttpStatusCode.NotFound);

            const string url = "https://news.example.com/markets/rss.xml";
            using var accepted = await client.PutAsJsonAsync("/api/watchlist/feed/example-markets", new { feedUrl = url, priority = 3 }, Cancel);
            accepted.StatusCode.ShouldBe(HttpStatusCode.Created);
            var entry = await accepted.Content.ReadFromJsonAsync<JsonElement>(Cancel);
            entry.GetProperty("host").GetString().ShouldBe("news.example.com");
            // The same URL again is not fetched again.
            using var again = await client.PutAsJsonAsync("/api/watchlist/feed/example-markets", new { feedUrl = url, priority = 4 }, Cancel);
            again.StatusCode.ShouldBe(HttpStatusCode.OK);
            lock (checks)
            {
                checks.ShouldBe(["http://internal.example/rss", url]);
            }

            // The polling round asks the crawler for that URL.
            var request = (await scheduler.Requests.WaitForAsync(1, r => r.Symbol == "example-markets", TimeSpan.FromSeconds(60), Cancel))[0].Message;
            request.Source.ShouldBe("feed");
            request.FeedUrl.ShouldBe(url);
        }
        finally
        {
            using var _ = await client.DeleteAsync(new Uri("/api/watchlist/feed/example-markets", UriKind.Relative), Cancel);
            await crawler.StopAsync(CancellationToken.None);
        }
    }
}
