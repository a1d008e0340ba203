using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using MySqlConnector;

namespace Finstage.Testing;

/// <summary>
/// Where the real MariaDB and RabbitMQ started by <c>scripts/servers.sh</c> are, read from the
/// environment the script prints, with the script's defaults.
/// </summary>
public static class TestServers
{
    /// <summary>
    /// A MariaDB connection string without a database, for the migrator: a user that may create <c>finstage*</c>
    /// databases and change their schema (test set-up and the services' migrate step).
    /// </summary>
    public static string MySqlAdmin =>
        Environment.GetEnvironmentVariable("FINSTAGE_MYSQL_ADMIN") is { Length: > 0 } value
            ? value
            : "Server=127.0.0.1;Port=3306;User ID=finstage_migrator;Password=finstage-migrator-local";

    /// <summary>A MariaDB connection string without a database, for the user the services run as: rows only, no schema changes.</summary>
    public static string MySqlRuntime =>
        Environment.GetEnvironmentVariable("FINSTAGE_MYSQL_RUNTIME") is { Length: > 0 } value
            ? value
            : "Server=127.0.0.1;Port=3306;User ID=finstage_runtime;Password=finstage-runtime-local";

    /// <summary>The same database as <paramref name="connectionString"/>, as the runtime user (<see cref="MySqlRuntime"/>).</summary>
    public static string AsRuntimeUser(string connectionString)
    {
        var runtime = new MySqlConnectionStringBuilder(MySqlRuntime);
        return new MySqlConnectionStringBuilder(connectionString) { UserID = runtime.UserID, Password = runtime.Password }.ConnectionString;
    }

    /// <summary>The RabbitMQ broker's AMQP URI, without a virtual host.</summary>
    public static Uri RabbitMq
    {
        get
        {
            var configured = Environment.GetEnvironmentVariable("ConnectionStrings__RabbitMq");
            var uri = new Uri(string.IsNullOrEmpty(configured) ? "amqp://guest:guest@127.0.0.1:5672/" : configured);
            return new UriBuilder(uri) { Path = "/" }.Uri;
        }
    }

    /// <summary>The Redis that holds the crawlers' shared per-host budgets, as <c>host:port</c>.</summary>
    public static string Redis =>
        Environment.GetEnvironmentVariable("FINSTAGE_REDIS") is { Length: > 0 } value ? value : "127.0.0.1:6379";

    /// <summary>The RabbitMQ management API's base address.</summary>
    public static Uri RabbitMqManagement =>
        new(Environment.GetEnvironmentVariable("FINSTAGE_RABBITMQ_MANAGEMENT") is { Length: > 0 } value ? value : "http://127.0.0.1:15672");

    /// <summary>Drops and re-creates a database, returning the migrator's connection string to it.</summary>
    public static async Task<string> CreateDatabaseAsync(string name, CancellationToken cancellationToken = default)
    {
        if (!name.StartsWith("finstage", StringComparison.Ordinal) || name.Any(c => !(char.IsAsciiLetterOrDigit(c) || c == '_')))
        {
            throw new ArgumentException("Test databases are named finstage_* in letters, digits and underscores.", nameof(name));
        }
        await using var connection = new MySqlConnection(MySqlAdmin);
        await connection.OpenAsync(cancellationToken);
        await using var command = new MySqlCommand(
            $"DROP DATABASE IF EXISTS `{name}`; CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;", connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
        return new MySqlConnectionStringBuilder(MySqlAdmin) { Database = name }.ConnectionString;
    }

    /// <summary>
    /// Deletes and re-creates a RabbitMQ virtual host, so a test run starts with no queues or
    /// messages left by an earlier one, and returns the AMQP URI of it.
    /// </summary>
    public static async Task<Uri> CreateVirtualHostAsync(string name, CancellationToken cancellationToken = default)
    {
        var broker = RabbitMq;
        using var http = CreateManagementClient();
        var vhost = Uri.EscapeDataString(name);
        var user = Uri.EscapeDataString(RabbitMqUser);

        using (var deleted = await http.DeleteAsync(new Uri($"api/vhosts/{vhost}", UriKind.Relative), cancellationToken))
        {
            if (!deleted.IsSuccessStatusCode && deleted.StatusCode != System.Net.HttpStatusCode.NotFound)
            {
                throw new InvalidOperationException($"RabbitMQ refused to delete virtual host {name}: {(int)deleted.StatusCode}");
            }
        }
        using (var created = await http.PutAsync(new Uri($"api/vhosts/{vhost}", UriKind.Relative), Json("{}"), cancellationToken))
        {
            created.EnsureSuccessStatusCode();
        }
        using (var permitted = await http.PutAsync(
            new Uri($"api/permissions/{vhost}/{user}", UriKind.Relative), Json("""{"configure":".*","write":".*","read":".*"}"""), cancellationToken))
        {
            permitted.EnsureSuccessStatusCode();
        }
        return new UriBuilder(broker) { Path = "/" + vhost }.Uri;
    }

    /// <summary>
    /// Every queue of a virtual host with the messages it holds, ready and unacknowledged, as the
    /// management API reports them (its figures lag the broker by up to its statistics interval).
    /// </summary>
    public static async Task<IReadOnlyList<QueueDepth>> GetQueuesAsync(string virtualHost, CancellationToken cancellationToken = default)
    {
        using var http = CreateManagementClient();
        using var response = await http.GetAsync(new Uri($"api/queues/{Uri.EscapeDataString(virtualHost)}", UriKind.Relative), cancellationToken);
        response.EnsureSuccessStatusCode();
        using var json = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken), cancellationToken: cancellationToken);
        return [.. json.RootElement.EnumerateArray().Select(queue => new QueueDepth(
            queue.GetProperty("name").GetString()!,
            queue.TryGetProperty("messages_ready", out var ready) ? ready.GetInt64() : 0,
            queue.TryGetProperty("messages_unacknowledged", out var unacknowledged) ? unacknowledged.GetInt64() : 0))];
    }

    /// <summary>The RabbitMQ user of <see cref="RabbitMq"/>.</summary>
    public static string RabbitMqUser => Uri.UnescapeDataString(RabbitMq.UserInfo).Split(':')[0];

    /// <summary>The RabbitMQ password of <see cref="RabbitMq"/>.</summary>
    public static string RabbitMqPassword => Uri.UnescapeDataString(RabbitMq.UserInfo).Split(':', 2) is [_, var password] ? password : "";

    /// <summary>An HTTP client for the management API, signed in as the broker's user.</summary>
    public static HttpClient CreateManagementClient()
    {
        var http = new HttpClient { BaseAddress = RabbitMqManagement, Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue(
            "Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(Uri.UnescapeDataString(RabbitMq.UserInfo))));
        return http;
    }

    internal static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");
}

/// <summary>A queue and the messages in it: waiting for a consumer, and delivered but not yet acknowledged.</summary>
public sealed record QueueDepth(string Name, long Ready, long Unacknowledged);
