extern alias storage;

using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Finstage.Testing;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using MySqlConnector;
using ArticleId = storage::Finstage.Storage.Infrastructure.ArticleId;
using DatabaseOptions = storage::Finstage.Storage.Infrastructure.DatabaseOptions;

namespace Finstage.Bench;

/// <summary>
/// p6: <c>GET /api/news?symbol=…&amp;limit=50</c>, following <c>nextCursor</c> for a few pages, from
/// 32 concurrent clients over real HTTP against a database of 1 M articles, against the same pages
/// read by the same statement (the page with each article's symbols) through MySqlConnector.
/// </summary>
public static class ApiFigure
{
    private const int Limit = 50;

    // Fewer clients than cores: no page waits behind another.
    private const int CalmClients = 2;

    public static async Task RunAsync(BenchSettings settings, Report report, CancellationToken ct)
    {
        const string name = "finstage_bench_api";
        var database = new MySqlConnectionStringBuilder(TestServers.MySqlAdmin) { Database = name }.ConnectionString;
        var reuse = await CountArticlesAsync(database, ct) == settings.ApiArticles;
        if (!reuse)
        {
            await TestServers.CreateDatabaseAsync(name, ct);
        }
        var virtualHost = await TestServers.CreateVirtualHostAsync("finstage-bench", ct);
        await using var factory = await ServiceHosts.StorageAsync(database, virtualHost.ToString(), start: false);
        // Real HTTP over loopback, as a client would see it, not the in-memory test server.
        factory.UseKestrel(FreePort());
        factory.StartServer();
        var address = factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        if (!reuse)
        {
            var seeding = Stopwatch.StartNew();
            await SeedAsync(database, settings.ApiArticles, settings.ApiSymbols, ct);
            report.Raw("p6_seed_s", seeding.Elapsed.TotalSeconds);
        }

        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = settings.ApiClients, PooledConnectionLifetime = TimeSpan.FromMinutes(10) })
        {
            BaseAddress = new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal).Replace("localhost", "127.0.0.1", StringComparison.Ordinal)),
        };
        var symbols = Enumerable.Range(0, settings.ApiSymbols).Select(Symbol).ToArray();
        Func<string, string?, Task<string?>> api = async (symbol, cursor) =>
        {
            var url = "/api/news?symbol=" + Uri.EscapeDataString(symbol) + "&limit=" + Limit.ToString(CultureInfo.InvariantCulture)
                + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor));
            using var response = await http.GetAsync(new Uri(url, UriKind.Relative), ct);
            response.EnsureSuccessStatusCode();
            await using var body = await response.Content.ReadAsStreamAsync(ct);
            using var json = await JsonDocument.ParseAsync(body, cancellationToken: ct);
            return json.RootElement.TryGetProperty("nextCursor", out var next) && next.ValueKind == JsonValueKind.String ? next.GetString() : null;
        };
        // The service's own pool settings (no reset round trip per checkout), so both sides pay the same per page.
        await using var dataSource = new MySqlDataSourceBuilder(new DatabaseOptions().BuildConnectionString(database)).Build();
        Func<string, string?, Task<string?>> raw = (symbol, cursor) => RawPageAsync(dataSource, symbol, cursor, ct);

        var warm = settings.Quick ? TimeSpan.FromSeconds(1) : TimeSpan.FromSeconds(3);
        await LoadAsync(api, symbols, settings.ApiClients, warm, ct);
        await LoadAsync(raw, symbols, settings.ApiClients, warm, ct);
        // Where the time goes: on a shared machine the latency follows the CPU left over, so each phase's CPU is kept.
        var databasePid = await CpuMeter.FindDatabasePidAsync(TestServers.MySqlAdmin, ct);
        // Raw, API, API, raw, each half the duration: a machine that speeds up or slows down over the figure (it is
        // shared) weighs on both sides alike, and the p99s compared come from the same minutes.
        var half = settings.ApiDuration / 2;
        var rawRuns = new List<(LoadRun Run, CpuUse Cpu)>();
        var apiRuns = new List<(LoadRun Run, CpuUse Cpu)>();
        foreach (var side in new[] { "raw", "api", "api", "raw" })
        {
            var meter = CpuMeter.Start(databasePid);
            var run = await LoadAsync(side == "raw" ? raw : api, symbols, settings.ApiClients, half, ct);
            (side == "raw" ? rawRuns : apiRuns).Add((run, meter.Stop()));
        }
        var (rawRun, rawCpu) = Combine(rawRuns);
        var (apiRun, apiCpu) = Combine(apiRuns);

        report.Raw("p6_raw_pages_per_s", rawRun.PerSecond);
        report.Raw("p6_api_pages_per_s", apiRun.PerSecond);
        report.Raw("p6_raw_p50_ms", Measure.Percentile(rawRun.LatenciesMs, 50));
        report.Raw("p6_raw_p99_ms", Measure.Percentile(rawRun.LatenciesMs, 99));
        report.Raw("p6_api_p50_ms", Measure.Percentile(apiRun.LatenciesMs, 50));
        ReportCpu(report, "p6_raw", rawRun, rawCpu);
        ReportCpu(report, "p6_api", apiRun, apiCpu);
        // The same pages with the machine not saturated: what a page costs when it does not queue behind 31 others.
        var calm = settings.Quick ? TimeSpan.FromSeconds(2) : TimeSpan.FromSeconds(5);
        var rawCalm = await LoadAsync(raw, symbols, CalmClients, calm, ct);
        var apiCalm = await LoadAsync(api, symbols, CalmClients, calm, ct);
        report.Raw("p6_raw_p99_ms_at_2_clients", Measure.Percentile(rawCalm.LatenciesMs, 99));
        report.Raw("p6_api_p50_ms_at_2_clients", Measure.Percentile(apiCalm.LatenciesMs, 50));
        report.Raw("p6_api_p99_ms_at_2_clients", Measure.Percentile(apiCalm.LatenciesMs, 99));
        report.Raw("p6_api_pages_per_s_at_2_clients", apiCalm.PerSecond);
        report.Raw("p6_articles", await CountArticlesAsync(database, ct));
        report.Raw("p6_api_p99_ms", Measure.Percentile(apiRun.LatenciesMs, 99));
        report.Figure("p6_api_vs_raw", apiRun.PerSecond / rawRun.PerSecond);
        // The tail at 32 clients is queueing on two saturated cores, which the raw queries share (docs/performance.md):
        // the figure is the API's p99 against theirs; with 2 clients nothing queues, and the API's own p99 is the figure.
        report.Figure("p6_p99_vs_raw", Measure.Percentile(apiRun.LatenciesMs, 99) / Measure.Percentile(rawRun.LatenciesMs, 99));
        report.Figure("p6_p99_ms_at_2_clients", Measure.Percentile(apiCalm.LatenciesMs, 99));
    }

    private static (LoadRun Run, CpuUse Cpu) Combine(List<(LoadRun Run, CpuUse Cpu)> runs)
    {
        var elapsed = TimeSpan.FromTicks(runs.Sum(r => r.Cpu.Elapsed.Ticks));
        var pages = runs.Sum(r => r.Run.LatenciesMs.Count);
        var database = runs.All(r => r.Cpu.DatabaseSeconds is not null) ? runs.Sum(r => r.Cpu.DatabaseSeconds!.Value) : (double?)null;
        return (new LoadRun(pages / elapsed.TotalSeconds, [.. runs.SelectMany(r => r.Run.LatenciesMs)]),
            new CpuUse(elapsed, runs.Sum(r => r.Cpu.ProcessSeconds), database, runs.Sum(r => r.Cpu.MachineBusySeconds)));
    }

    // Per page: this process (clients, and for the API also Kestrel and the service) and MariaDB; and the cores others used meanwhile.
    private static void ReportCpu(Report report, string phase, LoadRun run, CpuUse cpu)
    {
        var pages = run.LatenciesMs.Count;
        report.Raw(phase + "_cpu_ms_per_page_process", 1000 * cpu.ProcessSeconds / pages);
        if (cpu.DatabaseSeconds is { } database)
        {
            report.Raw(phase + "_cpu_ms_per_page_db", 1000 * database / pages);
            report.Raw(phase + "_other_cores", cpu.OtherCores);
        }
        report.Raw(phase + "_machine_busy_pct", cpu.MachineBusyPercent);
    }

    private static string Symbol(int i) => "SYM" + i.ToString("0000", CultureInfo.InvariantCulture);

    private sealed record LoadRun(double PerSecond, List<double> LatenciesMs);

    /// <summary>Clients each pick a symbol at random and read its first 1–4 pages, until the time is up.</summary>
    private static async Task<LoadRun> LoadAsync(Func<string, string?, Task<string?>> page, string[] symbols, int clients, TimeSpan duration, CancellationToken ct)
    {
        var latencies = new List<double>[clients];
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(client => Task.Run(async () =>
        {
            var mine = latencies[client] = [];
            var random = new Random(client);
            while (clock.Elapsed < duration)
            {
                var symbol = symbols[random.Next(symbols.Length)];
                string? cursor = null;
                var pages = random.Next(1, 5);
                for (var p = 0; p < pages && clock.Elapsed < duration; p++)
                {
                    var started = Stopwatch.GetTimestamp();
                    cursor = await page(symbol, cursor);
                    mine.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                    if (cursor is null)
                    {
                        break;
                    }
                }
            }
        }, ct)));
        var all = latencies.SelectMany(list => list).ToList();
        return new LoadRun(all.Count / clock.Elapsed.TotalSeconds, all);
    }

    // The statement NewsReader.ListNewsAsync sends for a symbol's page (services/storage/Reading/NewsReader.cs).
    private static async Task<string?> RawPageAsync(MySqlDataSource dataSource, string symbol, string? cursor, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var command = new MySqlCommand { Connection = connection };
        var sql = new StringBuilder(
            "SELECT a.`id`, a.`url`, a.`title`, a.`summary`, a.`source`, a.`publisher`, a.`author`, a.`image_url`, a.`external_id`," +
            " a.`published_at`, a.`first_seen_at`, a.`last_seen_at`," +
            " (SELECT JSON_ARRAYAGG(l.`symbol`) FROM `article_symbols` l WHERE l.`article_id` = a.`id`), s.`sort_at`" +
            " FROM `article_symbols` s JOIN `articles` a ON a.`id` = s.`article_id` WHERE s.`symbol` = @symbol");
        command.Parameters.AddWithValue("@symbol", symbol);
        if (cursor is not null)
        {
            var parts = cursor.Split('|');
            sql.Append(" AND (s.`sort_at` < @afterAt OR (s.`sort_at` = @afterAt AND s.`article_id` < @afterKey))");
            command.Parameters.AddWithValue("@afterAt", DateTime.Parse(parts[0], CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind));
            command.Parameters.AddWithValue("@afterKey", Convert.FromHexString(parts[1]));
        }
        command.CommandText = sql.Append(" ORDER BY s.`sort_at` DESC, s.`article_id` DESC LIMIT @limit").ToString();
        command.Parameters.AddWithValue("@limit", Limit + 1);
        var rows = new List<(byte[] Id, DateTime SortAt)>();
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                // Read every column, as the service does to build its views.
                for (var c = 1; c < 13; c++)
                {
                    _ = reader.IsDBNull(c) ? null : reader.GetValue(c);
                }
                rows.Add(((byte[])reader[0], reader.GetDateTime(13)));
            }
        }
        var page = rows.Take(Limit).ToList();
        return rows.Count > Limit ? page[^1].SortAt.ToString("O", CultureInfo.InvariantCulture) + "|" + Convert.ToHexString(page[^1].Id) : null;
    }

    private static async Task<long> CountArticlesAsync(string database, CancellationToken ct)
    {
        try
        {
            return await Measure.ScalarAsync(database, "SELECT COUNT(*) FROM `articles`", ct);
        }
        catch (MySqlException)
        {
            return -1;
        }
    }

    /// <summary>Articles with one symbol each, spread evenly, a minute apart; 1,000 rows a statement.</summary>
    private static async Task SeedAsync(string database, int articles, int symbolCount, CancellationToken ct)
    {
        var now = new DateTime(2026, 11, 25, 0, 0, 0, DateTimeKind.Utc);
        await using var connection = new MySqlConnection(database);
        await connection.OpenAsync(ct);
        for (var start = 0; start < articles; start += 1_000)
        {
            var count = Math.Min(1_000, articles - start);
            var ids = new byte[count][];
            var sortAt = new DateTime[count];
            var sql = new StringBuilder(
                "INSERT INTO `articles` (`id`,`url`,`source`,`title`,`summary`,`publisher`,`published_at`,`sort_at`,`first_seen_at`,`last_seen_at`) VALUES ");
            await using var insert = new MySqlCommand { Connection = connection };
            for (var i = 0; i < count; i++)
            {
                var n = start + i;
                var url = string.Create(CultureInfo.InvariantCulture, $"https://news.example.com/api/{n}.html");
                ids[i] = ArticleId.FromUrl(url);
                sortAt[i] = now.AddMinutes(-n);
                var p = "@" + i.ToString(CultureInfo.InvariantCulture) + "_";
                sql.Append(i == 0 ? "(" : ",(").Append(CultureInfo.InvariantCulture,
                    $"{p}0,{p}1,'bench',{p}2,{p}3,'Bench News',{p}4,{p}4,{p}4,{p}4)");
                insert.Parameters.AddWithValue(p + "0", ids[i]);
                insert.Parameters.AddWithValue(p + "1", url);
                insert.Parameters.AddWithValue(p + "2", string.Create(CultureInfo.InvariantCulture, $"Headline number {n}: markets move on the day's news"));
                insert.Parameters.AddWithValue(p + "3", string.Create(CultureInfo.InvariantCulture, $"A summary of story {n}, a sentence or two as feeds carry them."));
                insert.Parameters.AddWithValue(p + "4", sortAt[i]);
            }
            insert.CommandText = sql.ToString();
            await insert.ExecuteNonQueryAsync(ct);

            await using var link = new MySqlCommand { Connection = connection };
            var links = new StringBuilder("INSERT INTO `article_symbols` (`article_id`,`symbol`,`sort_at`,`first_seen_at`) VALUES ");
            for (var i = 0; i < count; i++)
            {
                var p = "@" + i.ToString(CultureInfo.InvariantCulture) + "_";
                links.Append(i == 0 ? "(" : ",(").Append(CultureInfo.InvariantCulture, $"{p}0,{p}1,{p}2,{p}2)");
                link.Parameters.AddWithValue(p + "0", ids[i]);
                link.Parameters.AddWithValue(p + "1", Symbol((start + i) % symbolCount));
                link.Parameters.AddWithValue(p + "2", sortAt[i]);
            }
            link.CommandText = links.ToString();
            await link.ExecuteNonQueryAsync(ct);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
