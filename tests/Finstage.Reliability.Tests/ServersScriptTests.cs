using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Finstage.Testing;
using MySqlConnector;

namespace Finstage.Reliability.Tests;

/// <summary>
/// <c>scripts/servers.sh</c> with two port sets at once, as <c>./bench.sh</c> (shifted ports) and
/// <c>./test.sh</c> (default ports) run it: each set gets servers of its own and stops only those.
/// </summary>
/// <remarks>
/// Neither set is the default one nor the bench's: <c>./test.sh</c>'s own servers run on the default
/// ports while this test runs and must not be touched. The servers live in a folder of the test's
/// own (<c>FINSTAGE_SERVERS_DIR</c>), which also names every process they consist of (mariadbd's
/// config file, the Erlang VM's home, epmd's HOME), so the test finds and ends anything left over.
/// </remarks>
[Trait("Category", "Reliability")]
public sealed partial class ServersScriptTests
{
    private static readonly PortSet Shifted = new(MySql: 4006, Amqp: 6372, Management: 16372, Distribution: 26372, Epmd: 5069, Redis: 7379);

    private static readonly PortSet Other = new(MySql: 4106, Amqp: 6472, Management: 16472, Distribution: 26472, Epmd: 5169, Redis: 7479);

    private static void Record(string line) => TestContext.Current.TestOutputHelper?.WriteLine(line);

    [Fact(Timeout = 600_000)]
    public async Task StartAndStop_KeepEachPortSetToItsOwnServers_WhenTwoSetsRunSideBySide()
    {
        var ct = TestContext.Current.CancellationToken;
        var folder = Path.Combine(Path.GetTempPath(), "finstage-servers-test-" + Guid.NewGuid().ToString("N")[..12]);
        foreach (var port in Shifted.All.Concat(Other.All))
        {
            PortHolder(port).ShouldBeNull($"port {port} must be free before the test starts servers on it");
        }
        try
        {
            await RunScriptAsync(Shifted, folder, "start", ct);
            await RunScriptAsync(Other, folder, "start", ct);

            // Each set answers on its own ports, from its own server.
            await ShouldAnswerAsync(Shifted, ct);
            await ShouldAnswerAsync(Other, ct);
            var shifted = ParseStatus(await RunScriptAsync(Shifted, folder, "status", ct), Shifted);
            var other = ParseStatus(await RunScriptAsync(Other, folder, "status", ct), Other);
            shifted.MariaDb.ShouldNotBe(other.MariaDb);
            shifted.RabbitMq.ShouldNotBe(other.RabbitMq);

            // Stopping one set stops its servers and leaves the other's answering.
            await RunScriptAsync(Shifted, folder, "stop", ct);
            await ShouldBeStoppedAsync(Shifted, folder, shifted, ct);
            await ShouldAnswerAsync(Other, ct);
            ParseStatus(await RunScriptAsync(Other, folder, "status", ct), Other).ShouldBe(other);

            await RunScriptAsync(Other, folder, "stop", ct);
            await ShouldBeStoppedAsync(Other, folder, other, ct);
            ProcessesOf(folder).ShouldBeEmpty("no process of either set may be left running");
        }
        finally
        {
            await CleanUpAsync(folder);
        }
    }

    private sealed record PortSet(int MySql, int Amqp, int Management, int Distribution, int Epmd, int Redis)
    {
        public IEnumerable<int> All => [MySql, Amqp, Management, Distribution, Epmd, Redis];
    }

    private sealed record RunningServers(int MariaDb, int RabbitMq);

    private static async Task ShouldAnswerAsync(PortSet ports, CancellationToken ct)
    {
        // The MariaDB on this port is the one configured for it (not another set's, answering elsewhere).
        var builder = new MySqlConnectionStringBuilder(TestServers.MySqlAdmin) { Server = "127.0.0.1", Port = (uint)ports.MySql, ConnectionTimeout = 10 };
        await using (var connection = new MySqlConnection(builder.ConnectionString))
        {
            await connection.OpenAsync(ct);
            await using var command = new MySqlCommand("SELECT @@port", connection);
            Convert.ToInt32(await command.ExecuteScalarAsync(ct), System.Globalization.CultureInfo.InvariantCulture).ShouldBe(ports.MySql);
        }

        // The broker behind this management port lists this AMQP port (and this distribution port) as its own.
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{ports.Management}/"), Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("guest:guest")));
        using var overview = await JsonDocument.ParseAsync(await http.GetStreamAsync(new Uri("api/overview", UriKind.Relative), ct), cancellationToken: ct);
        var listeners = overview.RootElement.GetProperty("listeners").EnumerateArray()
            .Select(listener => (Protocol: listener.GetProperty("protocol").GetString(), Port: listener.GetProperty("port").GetInt32()))
            .ToList();
        listeners.ShouldContain(("amqp", ports.Amqp));
        listeners.ShouldContain(("clustering", ports.Distribution));
        using var amqp = new TcpClient();
        await amqp.ConnectAsync("127.0.0.1", ports.Amqp, ct);
    }

    private static RunningServers ParseStatus(string status, PortSet ports)
    {
        Record(status.TrimEnd());
        var mariaDb = MariaDbRunning().Match(status);
        mariaDb.Success.ShouldBeTrue($"status must say MariaDB runs on port {ports.MySql}: {status}");
        mariaDb.Groups["port"].Value.ShouldBe(ports.MySql.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var rabbitMq = RabbitMqRunning().Match(status);
        rabbitMq.Success.ShouldBeTrue($"status must say RabbitMQ runs on AMQP port {ports.Amqp}: {status}");
        rabbitMq.Groups["amqp"].Value.ShouldBe(ports.Amqp.ToString(System.Globalization.CultureInfo.InvariantCulture));
        rabbitMq.Groups["management"].Value.ShouldBe(ports.Management.ToString(System.Globalization.CultureInfo.InvariantCulture));
        status.ShouldContain($"redis: running (pid ", Case.Sensitive, $"status must say Redis runs: {status}");
        status.ShouldContain($", port {ports.Redis}, ", Case.Sensitive, $"status must say Redis runs on port {ports.Redis}: {status}");
        return new RunningServers(int.Parse(mariaDb.Groups["pid"].Value, System.Globalization.CultureInfo.InvariantCulture),
            int.Parse(rabbitMq.Groups["pid"].Value, System.Globalization.CultureInfo.InvariantCulture));
    }

    private static async Task ShouldBeStoppedAsync(PortSet ports, string folder, RunningServers servers, CancellationToken ct)
    {
        var status = await RunScriptAsync(ports, folder, "status", ct);
        Record(status.TrimEnd());
        status.ShouldContain("mariadb: stopped");
        status.ShouldContain("rabbitmq: stopped");
        status.ShouldContain("redis: stopped");
        IsAlive(servers.MariaDb).ShouldBeFalse("this set's MariaDB must be gone");
        IsAlive(servers.RabbitMq).ShouldBeFalse("this set's RabbitMQ must be gone");
        foreach (var port in ports.All)
        {
            PortHolder(port).ShouldBeNull($"nothing may listen on port {port} once its set is stopped");
        }
    }

    private static async Task<string> RunScriptAsync(PortSet ports, string folder, string command, CancellationToken ct)
    {
        var start = new ProcessStartInfo("bash", [Path.Combine(Repository.Root, "scripts", "servers.sh"), command])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["FINSTAGE_SERVERS_DIR"] = folder;
        start.Environment["FINSTAGE_MYSQL_PORT"] = ports.MySql.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["FINSTAGE_AMQP_PORT"] = ports.Amqp.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["FINSTAGE_RABBITMQ_MANAGEMENT_PORT"] = ports.Management.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["FINSTAGE_RABBITMQ_DIST_PORT"] = ports.Distribution.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["FINSTAGE_EPMD_PORT"] = ports.Epmd.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["FINSTAGE_REDIS_PORT"] = ports.Redis.ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var script = Process.Start(start) ?? throw new InvalidOperationException("bash did not start");
        var output = script.StandardOutput.ReadToEndAsync(ct);
        var errors = script.StandardError.ReadToEndAsync(ct);
        await script.WaitForExitAsync(ct);
        Record($"servers.sh {command} (MySQL port {ports.MySql}): exit {script.ExitCode}\n{(await errors).TrimEnd()}");
        script.ExitCode.ShouldBe(0, $"scripts/servers.sh {command} failed: {await errors}");
        return await output;
    }

    // Whatever the test leaves behind, even when it fails half-way: both sets stopped by the script,
    // then any process still naming the test's folder ended by its pid, and the folder deleted.
    private static async Task CleanUpAsync(string folder)
    {
        foreach (var ports in new[] { Shifted, Other })
        {
            try
            {
                using var stopping = new CancellationTokenSource(TimeSpan.FromMinutes(2));
                await RunScriptAsync(ports, folder, "stop", stopping.Token);
            }
            catch (Exception exception) when (exception is not OutOfMemoryException)
            {
                Record($"clean-up: stop failed: {exception.Message}");
            }
        }
        foreach (var pid in ProcessesOf(folder))
        {
            Record($"clean-up: killing pid {pid}, left by the servers of {folder}");
            try
            {
                using var process = Process.GetProcessById(pid);
                process.Kill();
                using var waiting = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                await process.WaitForExitAsync(waiting.Token);
            }
            catch (Exception exception) when (exception is ArgumentException or InvalidOperationException or OperationCanceledException)
            {
                Record($"clean-up: pid {pid}: {exception.Message}");
            }
        }
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    /// <summary>The processes whose command line or environment names <paramref name="folder"/>.</summary>
    private static List<int> ProcessesOf(string folder)
    {
        var self = Environment.ProcessId;
        var found = new List<int>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid) || pid == self)
            {
                continue;
            }
            try
            {
                if (File.ReadAllText(Path.Combine(directory, "cmdline")).Contains(folder, StringComparison.Ordinal)
                    || File.ReadAllText(Path.Combine(directory, "environ")).Contains(folder, StringComparison.Ordinal))
                {
                    found.Add(pid);
                }
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                // Gone meanwhile, or not ours to read.
            }
        }
        return found;
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    /// <summary>The listening socket on a TCP port of this machine, as <c>ss</c> reports it, or null.</summary>
    private static string? PortHolder(int port)
    {
        var start = new ProcessStartInfo("ss", ["-Hltnp", $"sport = :{port}"]) { RedirectStandardOutput = true };
        using var ss = Process.Start(start) ?? throw new InvalidOperationException("ss did not start");
        var output = ss.StandardOutput.ReadToEnd();
        ss.WaitForExit();
        return string.IsNullOrWhiteSpace(output) ? null : output.Trim();
    }

    [GeneratedRegex(@"^mariadb: running \(pid (?<pid>\d+), port (?<port>\d+)", RegexOptions.Multiline)]
    private static partial Regex MariaDbRunning();

    [GeneratedRegex(@"^rabbitmq: running \(pid (?<pid>\d+), AMQP port (?<amqp>\d+), management port (?<management>\d+)", RegexOptions.Multiline)]
    private static partial Regex RabbitMqRunning();
}
