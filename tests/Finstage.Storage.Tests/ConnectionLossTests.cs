using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Finstage.Storage.Infrastructure;
using Finstage.Storage.Reading;
using Finstage.Storage.Writing;
using Finstage.Testing;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace Finstage.Storage.Tests;

/// <summary>
/// The pool hands out connections unchecked (no reset round trip per checkout), so a connection the
/// server has closed since it was pooled must be replaced by the session scopes, not reach the caller.
/// Each test uses a host of its own, with a pool of its own, so killing its connections touches no other.
/// </summary>
public sealed class ConnectionLossTests(StorageFixture storage) : IAsyncLifetime
{
    private const int Pooled = 4;

    private WebApplicationFactory<Program> _host = null!;

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private ReadSessions Sessions => _host.Services.GetRequiredService<ReadSessions>();

    public async ValueTask InitializeAsync()
    {
        await storage.ResetAsync();
        // Pool sizes no other host uses make connection strings, and so pools (ingest's and the reads'), of this host's own.
        _host = new WebApplicationFactory<Program>().WithWebHostBuilder(web =>
            StorageFixture.Configure(web, storage.ConnectionString, storage.Broker, new Dictionary<string, string?>
            {
                ["Database:MaxPoolSize"] = "9",
                ["Reads:MaxPoolSize"] = "5",
            }));
        _ = _host.Services;
    }

    public async ValueTask DisposeAsync()
    {
        // Whatever happened, no later host with these pools may inherit a dead connection from them.
        var connection = _host.Services.GetRequiredService<IOptions<StorageConnection>>().Value;
        foreach (var pool in new[] { connection.ConnectionString, connection.ReadConnectionString })
        {
            await using var pooled = new MySqlConnection(pool);
            await MySqlConnection.ClearPoolAsync(pooled);
        }
        await _host.DisposeAsync();
    }

    [Fact(Timeout = 60_000)]
    public async Task QueryAsync_NeverTakesAnIngestConnection_WhenBothPoolsHaveOneIdle()
    {
        var plain = await Sessions.QueryAsync(ConnectionIdAsync, Cancel);
        var ef = await _host.Services.QueryNewsDbAsync(async (db, ct) =>
        {
            await db.Database.OpenConnectionAsync(ct);
            return await ConnectionIdAsync((MySqlConnection)db.Database.GetDbConnection(), ct);
        }, Cancel);
        var plainAgain = await Sessions.QueryAsync(ConnectionIdAsync, Cancel);

        // Two pools, each last in first out: the read API's scopes reuse their own connection, never ingest's.
        ef.ShouldNotBe(plain);
        plainAgain.ShouldBe(plain);
    }

    [Fact(Timeout = 90_000)]
    public async Task ListNews_Answers_WhenThePooledConnectionsWereClosedByTheServer()
    {
        await storage.Writer.StoreAsync([Crawls.Crawled("AAPL", "yahoo", Crawls.Article(1))], Cancel);
        await KillPooledConnectionsAsync();
        using var client = _host.CreateClient();

        using var response = await client.GetAsync(new Uri("/api/news?symbol=AAPL", UriKind.Relative), Cancel);

        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync(Cancel));
        var page = await response.Content.ReadFromJsonAsync<JsonElement>(Cancel);
        page.GetProperty("items")[0].GetProperty("title").GetString().ShouldBe("Story 1");
    }

    [Fact(Timeout = 90_000)]
    public async Task ListSymbols_Answers_WhenThePooledConnectionsWereClosedByTheServer()
    {
        await storage.Writer.StoreAsync([Crawls.Crawled("AAPL", "yahoo", Crawls.Article(1))], Cancel);
        await KillPooledConnectionsAsync();
        using var client = _host.CreateClient();

        using var response = await client.GetAsync(new Uri("/api/symbols", UriKind.Relative), Cancel);

        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync(Cancel));
        (await response.Content.ReadFromJsonAsync<JsonElement>(Cancel))[0].GetProperty("symbol").GetString().ShouldBe("AAPL");
    }

    [Fact(Timeout = 90_000)]
    public async Task StoreAsync_Commits_WhenThePooledConnectionsWereClosedByTheServer()
    {
        await KillPooledConnectionsAsync(ingest: true);

        await _host.Services.GetRequiredService<NewsWriter>().StoreAsync([Crawls.Crawled("MSFT", "yahoo", Crawls.Article(2))], Cancel);

        (await storage.CountAsync("article_symbols", "`symbol` = 'MSFT'")).ShouldBe(1);
    }

    /// <summary>
    /// Fills one of this host's pools (the read API's, or ingest's) with connections held at the same time, returns
    /// them, then has the server close them.
    /// </summary>
    private async Task KillPooledConnectionsAsync(bool ingest = false)
    {
        var allOpen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var opened = 0;
        async Task<long> HoldAsync(MySqlConnection connection, CancellationToken ct)
        {
            if (Interlocked.Increment(ref opened) == Pooled)
            {
                allOpen.SetResult();
            }
            await allOpen.Task.WaitAsync(ct);
            return await ConnectionIdAsync(connection, ct);
        }
        var ids = await Task.WhenAll(Enumerable.Range(0, Pooled).Select(_ => ingest
            ? _host.Services.QueryNewsDbAsync(async (db, ct) =>
            {
                await db.Database.OpenConnectionAsync(ct);
                return await HoldAsync((MySqlConnection)db.Database.GetDbConnection(), ct);
            }, Cancel)
            : Sessions.QueryAsync(HoldAsync, Cancel)));
        ids.Distinct().Count().ShouldBe(Pooled);

        await using var admin = new MySqlConnection(storage.ConnectionString);
        await admin.OpenAsync(Cancel);
        foreach (var id in ids)
        {
            await using var kill = new MySqlCommand("KILL " + id.ToString(CultureInfo.InvariantCulture), admin);
            await kill.ExecuteNonQueryAsync(Cancel);
        }
        // KILL returns before the server has closed the socket; wait until the threads are gone.
        await Eventually.WaitForAsync(
            async () =>
            {
                await using var count = new MySqlCommand(
                    $"SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID IN ({string.Join(",", ids)})", admin);
                return Convert.ToInt64(await count.ExecuteScalarAsync(Cancel), CultureInfo.InvariantCulture);
            },
            left => left == 0, TimeSpan.FromSeconds(30), "the killed connections to close", Cancel);
    }

    private static async Task<long> ConnectionIdAsync(MySqlConnection connection, CancellationToken ct)
    {
        await using var command = new MySqlCommand("SELECT CONNECTION_ID()", connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(ct), CultureInfo.InvariantCulture);
    }
}
