using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Finstage.Contracts;
using Finstage.Hangfire.MySql;
using Finstage.Scheduler.Jobs;
using Finstage.Scheduler.Watchlist;
using Hangfire;
using Finstage.Testing;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace Finstage.Scheduler.Tests;

/// <summary>Runs alone: no other test's scheduler host may run the polling round that this one watches through its own bus.</summary>
[CollectionDefinition(nameof(PollingRoundRaceTests), DisableParallelization = true)]
public sealed class PollingRoundRaceRunsAlone;

/// <summary>
/// The polling round against a crawler at its quickest. Its own class, in a collection that runs alone: the answer is given
/// from a publish observer on the fixture's bus, so a round run by another test's host (they share the watchlist) would
/// request the entry where the observer never sees it.
/// </summary>
[Trait("Category", "Reliability")]
[Collection(nameof(PollingRoundRaceTests))]
public sealed class PollingRoundRaceTests(SchedulerFixture scheduler)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact(Timeout = 180_000)]
    public async Task PollingRound_LeavesTheEntryDueAtItsInterval_WhenTheResultIsBackBeforeTheRoundEnds()
    {
        using var client = scheduler.Factory.CreateClient();
        var bus = scheduler.Factory.Services.GetRequiredService<IBus>();
        const string symbol = "RACED1";
        // Taken here: the answer runs on the polling job's thread, outside the test's context.
        var cancel = Cancel;
        // The crawler at its quickest: the result is applied while the round is still in its publish, as happens when
        // a round awaits the broker's confirms of its other requests. A round that marked its entries after publishing
        // overwrote that result's "no request out" and held the entry for the whole time to live (10 min here).
        var answered = new AnswerBeforeThePublishReturns(symbol, async request =>
        {
            await bus.Publish(WatchlistApiTests.Crawled(request), cancel);
            await Eventually.WaitForAsync(
                () => scheduler.CountAsync($"SELECT COUNT(*) FROM watchlist_entries WHERE symbol = '{symbol}' AND last_crawled_at IS NOT NULL"),
                count => count == 1, TimeSpan.FromSeconds(60), $"the result for {symbol} applied", cancel);
        });
        using var observer = bus.ConnectPublishObserver(answered);
        // Only this test's round may request the entry: every scheduler host of the run (they share the database's Hangfire
        // and watchlist) steps aside while the round lock is held here, and the round below runs on lock names of its own,
        // publishing through the fixture's bus, where the observer sees it.
        var services = scheduler.Factory.Services;
        using var lockConnection = services.GetRequiredService<JobStorage>().GetConnection();
        using var roundLock = lockConnection.AcquireDistributedLock("finstage:fan-out:poll", TimeSpan.FromSeconds(60));
        var round = ActivatorUtilities.CreateInstance<CrawlFanOut>(services, new RoundPlanner(),
            (JobStorage)new MySqlStorage(scheduler.RuntimeConnectionString, new MySqlStorageOptions { TablesPrefix = "race_", PrepareSchemaIfNecessary = false }));
        try
        {
            // Pinned to 10 s: due again 10 s after its result.
            using var added = await client.PutAsJsonAsync($"/api/watchlist/yahoo/{symbol}", new { minIntervalSeconds = 10, maxIntervalSeconds = 10 }, Cancel);
            added.StatusCode.ShouldBe(HttpStatusCode.Created);

            // At least this entry: another test's host may have seeded entries of its own into the shared watchlist (the
            // macro group of RecurringJobsTests), which a round requests too. What is asserted is this entry's requests.
            (await round.RunDueAsync(null, Cancel)).ShouldBeGreaterThanOrEqualTo(1);
            await answered.Done.WaitAsync(TimeSpan.FromSeconds(90), Cancel);
            var first = (await scheduler.Requests.WaitForAsync(1, request => request.Symbol == symbol, TimeSpan.FromSeconds(60), Cancel))[0].Message;

            var entry = await client.GetFromJsonAsync<JsonElement>(new Uri($"/api/watchlist/yahoo/{symbol}", UriKind.Relative), Cancel);
            entry.GetProperty("requestOut").GetBoolean().ShouldBeFalse(entry.ToString());
            // And so a round once its interval has passed requests it again, not 10 min later.
            var untilDue = entry.GetProperty("nextDueAt").GetDateTimeOffset() - DateTimeOffset.UtcNow + TimeSpan.FromSeconds(1);
            if (untilDue > TimeSpan.Zero)
            {
                await Task.Delay(untilDue, Cancel);
            }
            (await round.RunDueAsync(null, Cancel)).ShouldBeGreaterThanOrEqualTo(1);
            var again = await scheduler.Requests.WaitForAsync(
                1, request => request.Symbol == symbol && request.CrawlId != first.CrawlId, TimeSpan.FromSeconds(60), Cancel);
            again.ShouldNotBeEmpty();
        }
        finally
        {
            using var _ = await client.DeleteAsync(new Uri($"/api/watchlist/yahoo/{symbol}", UriKind.Relative), Cancel);
        }
    }

    /// <summary>Runs <paramref name="answer"/> for the first request of <paramref name="symbol"/> inside its publish, before the publish returns.</summary>
    private sealed class AnswerBeforeThePublishReturns(string symbol, Func<CrawlRequested, Task> answer) : IPublishObserver
    {
        private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _answered;

        public Task Done => _done.Task;

        public Task PrePublish<T>(PublishContext<T> context) where T : class => Task.CompletedTask;

        public async Task PostPublish<T>(PublishContext<T> context) where T : class
        {
            if (context.Message is CrawlRequested request && request.Symbol == symbol && Interlocked.Exchange(ref _answered, 1) == 0)
            {
                try
                {
                    await answer(request);
                    _done.TrySetResult();
                }
                catch (Exception exception)
                {
                    _done.TrySetException(exception);
                }
            }
        }

        public Task PublishFault<T>(PublishContext<T> context, Exception exception) where T : class => Task.CompletedTask;
    }
}
