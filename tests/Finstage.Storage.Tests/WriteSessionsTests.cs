using Finstage.Storage.Writing;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Finstage.Storage.Tests;

public sealed class WriteSessionsTests(StorageFixture storage) : IAsyncLifetime
{
    // One crawl run, as the write path writes it: by SQL through the unit's own connection and transaction.
    private const string InsertRun =
        "INSERT INTO `crawl_runs` (`crawl_id`,`cycle_id`,`source`,`symbol`,`status`,`new_articles`,`seen_articles`,`finished_at`,`recorded_at`)" +
        " VALUES (UUID(), UUID(), 'yahoo', 'MSFT', 'Succeeded', 0, 0, UTC_TIMESTAMP(), UTC_TIMESTAMP())";

    private WriteSessions Sessions => storage.Services.GetRequiredService<WriteSessions>();

    public async ValueTask InitializeAsync() => await storage.ResetAsync();

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    [Fact(Timeout = 60_000)]
    public async Task WriteAsync_Commits_WhenWorkSucceeds()
    {
        await Sessions.WriteAsync(async (db, ct) => await db.Database.ExecuteSqlRawAsync(InsertRun, ct), TestContext.Current.CancellationToken);

        (await storage.CountAsync("crawl_runs")).ShouldBe(1);
    }

    [Fact(Timeout = 60_000)]
    public async Task WriteAsync_RollsBackEverything_WhenWorkThrowsAfterWriting()
    {
        var failure = await Should.ThrowAsync<InvalidOperationException>(() => Sessions.WriteAsync<bool>(async (db, ct) =>
        {
            await db.Database.ExecuteSqlRawAsync(InsertRun, ct);
            await db.Database.ExecuteSqlRawAsync(InsertRun, ct);
            throw new InvalidOperationException("the work failed after writing");
        }, TestContext.Current.CancellationToken));

        failure.Message.ShouldBe("the work failed after writing");
        (await storage.CountAsync("crawl_runs")).ShouldBe(0);
    }

    [Fact(Timeout = 120_000)]
    [Trait("Category", "Reliability")]
    public async Task WriteAsync_ReturnsConnectionsToThePool_WhenManyScopesEndOrFail()
    {
        // A pool of 2 and no retries: a scope that kept its connection would leave the pool empty
        // after two failures, and the next scope would fail after the 3 s connect timeout.
        await using var host = new WebApplicationFactory<Program>().WithWebHostBuilder(web =>
            StorageFixture.Configure(web, storage.RuntimeConnectionString, storage.Broker, new Dictionary<string, string?>
            {
                ["Database:MaxPoolSize"] = "2",
                ["Database:ConnectTimeoutSeconds"] = "3",
                ["Database:MaxRetryCount"] = "0",
            }));
        var sessions = host.Services.GetRequiredService<WriteSessions>();

        var completed = 0;
        for (var i = 0; i < 30; i++)
        {
            try
            {
                await sessions.WriteAsync<bool>(async (db, ct) =>
                {
                    await db.Database.ExecuteSqlRawAsync("SELECT 1", ct);
                    return i % 2 == 0 ? true : throw new InvalidOperationException("fails every other time");
                }, TestContext.Current.CancellationToken);
                completed++;
            }
            catch (InvalidOperationException)
            {
            }
        }

        completed.ShouldBe(15);
        (await host.Services.QueryNewsDbAsync((db, ct) => db.CrawlRuns.CountAsync(ct), TestContext.Current.CancellationToken)).ShouldBe(0);
    }
}
