using Microsoft.AspNetCore.HostFiltering;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Finstage.ServiceDefaults;

/// <summary>
/// Which <c>Host</c> headers the services answer. A browser that opens a page of an attacker's domain
/// which a DNS rebinding then points at 127.0.0.1 sends that domain as the host, so answering only the
/// names the services are reached by keeps such a page from reading the APIs and the dashboard.
/// </summary>
public static class HostNames
{
    /// <summary>The names every service binds to and is reached by on one machine.</summary>
    public const string LoopbackDefault = "localhost;127.0.0.1;[::1]";

    /// <summary>
    /// Answers only <c>AllowedHosts</c> (ASP.NET Core's own setting, <c>;</c>-separated, <c>*.name</c>
    /// for subdomains, <c>*</c> for any), and only the loopback names when it is not set; any other host
    /// gets 400. ASP.NET Core itself treats a missing <c>AllowedHosts</c> as <c>*</c>, which is what lets a
    /// rebinding page in.
    /// </summary>
    public static IHostApplicationBuilder RestrictHostNames(this IHostApplicationBuilder builder)
    {
        // Read when the options are first used, so settings added after this call (a test host's) count too.
        // ASP.NET Core's own set-up fills the options from AllowedHosts only when they are still empty
        // (a post-configure step), so the default set here stands when nothing is configured.
        builder.Services.AddOptions<HostFilteringOptions>().Configure<IConfiguration>((options, configuration) =>
        {
            if (string.IsNullOrWhiteSpace(configuration["AllowedHosts"]))
            {
                options.AllowedHosts = LoopbackDefault.Split(';', StringSplitOptions.RemoveEmptyEntries);
            }
        });
        return builder;
    }
}
