using System.ComponentModel.DataAnnotations;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Hangfire.Dashboard;

namespace Finstage.Scheduler.Infrastructure;

/// <summary>Who may open the Hangfire dashboard; credentials only from the environment.</summary>
public sealed class DashboardOptions
{
    public const string SectionName = "Dashboard";

    /// <summary>With a password, callers from other hosts may sign in with HTTP Basic; without, only loopback gets in.</summary>
    [MaxLength(128)]
    public string? Username { get; set; }

    [MaxLength(256)]
    public string? Password { get; set; }

    /// <summary>Hides the dashboard's buttons (trigger, delete, requeue) from everyone.</summary>
    public bool ReadOnly { get; set; }
}

/// <summary>Lets loopback callers in, and others only with the configured Basic credentials.</summary>
internal sealed class DashboardAccessFilter(DashboardOptions options) : IDashboardAuthorizationFilter
{
    public bool Authorize(DashboardContext context) => Authorize(context.GetHttpContext());

    /// <summary>The same rule for the control API (<c>/api/crawls</c>, <c>/api/watchlist</c>): it changes what is crawled.</summary>
    public bool Authorize(HttpContext http)
    {
        var remote = http.Connection.RemoteIpAddress;
        // No remote address means an in-process caller (the test server), which is local too.
        if (remote is null || IPAddress.IsLoopback(remote))
        {
            return true;
        }
        if (!string.IsNullOrEmpty(options.Username) && !string.IsNullOrEmpty(options.Password) && HasCredentials(http.Request.Headers.Authorization))
        {
            return true;
        }
        http.Response.Headers.WWWAuthenticate = "Basic realm=\"Finstage scheduler\", charset=\"UTF-8\"";
        return false;
    }

    private bool HasCredentials(string? header)
    {
        if (header is null || !header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }
        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header["Basic ".Length..].Trim()));
        }
        catch (FormatException)
        {
            return false;
        }
        var expected = Encoding.UTF8.GetBytes($"{options.Username}:{options.Password}");
        // Constant time, so the comparison does not leak how much of a guess was right.
        return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(decoded), expected);
    }
}
