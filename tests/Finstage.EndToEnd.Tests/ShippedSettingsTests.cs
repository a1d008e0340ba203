using System.Net;
using Microsoft.Extensions.Configuration;
using MySqlConnector;

namespace Finstage.EndToEnd.Tests;

/// <summary>
/// Secrets come from the environment only: what the repository ships in appsettings*.json may name a password
/// only for a server on this machine's loopback, where the local users it names are bound (scripts/servers.sh).
/// </summary>
[Trait("Category", "Reliability")]
public sealed class ShippedSettingsTests
{
    [Fact(Timeout = 30_000)]
    public void AppSettings_ShipNoCredentialThatWorksOffLoopback_InAnyProject()
    {
        var files = Directory.EnumerateFiles(RepositoryRoot(), "appsettings*.json", SearchOption.AllDirectories)
            .Where(path => !path.Split(Path.DirectorySeparatorChar).Any(part => part is "bin" or "obj" or ".local" or "node_modules"))
            .ToList();

        var problems = files.SelectMany(file => new ConfigurationBuilder().AddJsonFile(file).Build().AsEnumerable()
            .Where(setting => !string.IsNullOrEmpty(setting.Value))
            .Select(setting => Problem(setting.Key, setting.Value!) is { } problem ? $"{file}: {setting.Key}: {problem}" : null)
            .OfType<string>()).ToList();

        files.Count(file => file.Contains(Path.Combine("services", "storage"), StringComparison.Ordinal)).ShouldBeGreaterThan(0);
        problems.ShouldBeEmpty();
    }

    [Fact(Timeout = 30_000)]
    public void AppSettings_GiveTheSchedulerEachSourcesRate_AsTheCrawlerHasIt()
    {
        var crawler = new ConfigurationBuilder().AddJsonFile(Path.Combine(RepositoryRoot(), "services", "crawler", "appsettings.json")).Build();
        var scheduler = new ConfigurationBuilder().AddJsonFile(Path.Combine(RepositoryRoot(), "services", "scheduler", "appsettings.json")).Build();

        var crawlerRates = crawler.GetSection("Sources").GetChildren().ToDictionary(source => source.Key, source => source["RequestsPerSecond"]);
        var schedulerRates = scheduler.GetSection("Schedule:Sources").GetChildren().ToDictionary(source => source.Key, source => source["RequestsPerSecond"]);

        // The scheduler refuses a manual crawl by the rate it knows: a different one would refuse too much or let requests expire.
        crawlerRates.Count.ShouldBeGreaterThan(0);
        schedulerRates.ShouldBe(crawlerRates, ignoreOrder: true);
    }

    private static string? Problem(string key, string value)
    {
        var name = key.Split(':')[^1];
        if (name.Contains("password", StringComparison.OrdinalIgnoreCase) || name.Contains("secret", StringComparison.OrdinalIgnoreCase))
        {
            return "a credential with a default value";
        }
        if (value.Contains("Password=", StringComparison.OrdinalIgnoreCase) || value.Contains("Pwd=", StringComparison.OrdinalIgnoreCase))
        {
            var database = new MySqlConnectionStringBuilder(value);
            return database.Server.Split(',').All(IsLoopback) ? null : $"a database password for {database.Server}";
        }
        if (Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.UserInfo.Length > 0)
        {
            return IsLoopback(uri.Host) ? null : $"credentials for {uri.Host}";
        }
        return null;
    }

    private static bool IsLoopback(string host)
    {
        host = host.Trim().Trim('[', ']');
        return host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(host, out var address) && IPAddress.IsLoopback(address));
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Finstage.sln")))
            {
                return dir.FullName;
            }
        }
        throw new DirectoryNotFoundException("No Finstage.sln above " + AppContext.BaseDirectory);
    }
}
