using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration.Json;

namespace Finstage.Testing;

/// <summary>Test-host settings several test projects need.</summary>
public static class WebHostBuilderExtensions
{
    /// <summary>
    /// Leaves out the service's appsettings*.json, for a test that supplies lists of its own:
    /// configuration merges lists by index, so a default watchlist would bleed into the test's.
    /// </summary>
    public static IWebHostBuilder WithoutAppSettingsFiles(this IWebHostBuilder web) =>
        web.ConfigureAppConfiguration((_, configuration) =>
        {
            foreach (var json in configuration.Sources.OfType<JsonConfigurationSource>()
                         .Where(source => source.Path?.StartsWith("appsettings", StringComparison.Ordinal) == true).ToList())
            {
                configuration.Sources.Remove(json);
            }
        });
}
