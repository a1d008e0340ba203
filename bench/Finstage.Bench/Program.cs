using System.Diagnostics;
using Finstage.Bench;
using Finstage.Testing;

// The benchmark driver of issue #7: runs each figure against the real local RabbitMQ and MariaDB,
// prints the table and writes bench/out/results.json. Exit code 0 when every figure ran.
var settings = BenchSettings.Parse(args);
Environment.SetEnvironmentVariable("MASSTRANSIT_USAGE_TELEMETRY", "false");
// WebApplicationFactory looks for each service's content root (its appsettings.json) under this setting;
// without it, it guesses a folder named after the assembly beside Finstage.sln, which does not exist.
foreach (var (assembly, folder) in new[] { ("FINSTAGE_STORAGE", "storage"), ("FINSTAGE_CRAWLER", "crawler"), ("FINSTAGE_SCHEDULER", "scheduler") })
{
    Environment.SetEnvironmentVariable("ASPNETCORE_TEST_CONTENTROOT_" + assembly, Path.Combine(Repository.Root, "services", folder));
}
var report = new Report(settings);
using var budget = new CancellationTokenSource(settings.Budget);
var figures = new (string Name, Func<BenchSettings, Report, CancellationToken, Task> Run)[]
{
    ("p1", CycleFigure.RunAsync),
    ("p2", CrawlFigure.RunAsync),
    ("p3", FanOutFigure.RunAsync),
    ("p4", IngestFigure.RunAsync),
    ("p5", HangfireFigure.RunAsync),
    ("p6", ApiFigure.RunAsync),
    ("p7", CrawlerMemoryFigure.RunAsync),
    ("p8", ScaleOutFigure.RunAsync),
    ("p8s", StorageScaleFigure.RunAsync),
    ("p11", ParserFigure.RunAsync),
    ("p9", FreshnessFigure.RunAsync),
    ("p10", StreamFigure.RunAsync),
};
var failed = false;
var total = Stopwatch.StartNew();
foreach (var (name, run) in figures.Where(figure => settings.Runs(figure.Name)))
{
    Console.WriteLine($"[{total.Elapsed:mm\\:ss}] {name} …");
    try
    {
        await run(settings, report, budget.Token);
    }
    catch (Exception error) when (error is not OutOfMemoryException)
    {
        report.Error(name, error);
        failed = true;
    }
}

var machine = Report.DescribeMachine(await VersionAsync(), await RabbitMqVersionAsync());
report.Print(Console.Out);
var output = Path.Combine(Repository.Root, "bench", "out", "results.json");
await report.WriteAsync(output, machine);
Console.WriteLine($"wrote {output} in {total.Elapsed:mm\\:ss}");
return failed ? 1 : 0;

static async Task<string?> VersionAsync()
{
    try
    {
        await using var connection = new MySqlConnector.MySqlConnection(TestServers.MySqlAdmin);
        await connection.OpenAsync();
        return connection.ServerVersion;
    }
    catch (MySqlConnector.MySqlException)
    {
        return null;
    }
}

static async Task<string?> RabbitMqVersionAsync()
{
    try
    {
        using var http = new HttpClient { BaseAddress = TestServers.RabbitMqManagement, Timeout = TimeSpan.FromSeconds(5) };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue(
            "Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(Uri.UnescapeDataString(TestServers.RabbitMq.UserInfo))));
        using var json = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync(new Uri("api/overview", UriKind.Relative)));
        return json.RootElement.GetProperty("rabbitmq_version").GetString();
    }
    catch (HttpRequestException)
    {
        return null;
    }
}
