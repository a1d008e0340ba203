using System.Diagnostics;

namespace Finstage.Testing;

/// <summary>The servers <c>scripts/servers.sh</c> runs, as a fault test stops and starts them mid-run.</summary>
public static class LocalServers
{
    public const string MariaDb = "mariadb";

    public const string RabbitMq = "rabbitmq";

    /// <summary>
    /// Why these servers cannot be stopped and started here (they were not started by
    /// <c>scripts/servers.sh</c> with this environment's ports), or null when they can.
    /// </summary>
    public static async Task<string?> WhyNotControllableAsync(CancellationToken cancellationToken)
    {
        var status = await RunAsync(["status"], cancellationToken);
        return status.Contains("mariadb: running", StringComparison.Ordinal) && status.Contains("rabbitmq: running", StringComparison.Ordinal)
            ? null
            : "scripts/servers.sh does not run both servers here (status: " + status.Trim().Replace('\n', ';') + "); fault tests stop and start them through it.";
    }

    /// <summary>Stops one server (<see cref="MariaDb"/> or <see cref="RabbitMq"/>); its data stays on disk.</summary>
    public static Task StopAsync(string server, CancellationToken cancellationToken) => RunAsync(["stop", server], cancellationToken);

    /// <summary>Starts one server again and waits until it answers.</summary>
    public static Task StartAsync(string server, CancellationToken cancellationToken) => RunAsync(["start", server], cancellationToken);

    // The script reads the same FINSTAGE_* port variables this process was given.
    private static async Task<string> RunAsync(string[] arguments, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("bash", [Path.Combine(Repository.Root, "scripts", "servers.sh"), .. arguments])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var script = Process.Start(start) ?? throw new InvalidOperationException("bash did not start");
        var output = script.StandardOutput.ReadToEndAsync(cancellationToken);
        var errors = script.StandardError.ReadToEndAsync(cancellationToken);
        await script.WaitForExitAsync(cancellationToken);
        if (script.ExitCode != 0)
        {
            throw new InvalidOperationException($"scripts/servers.sh {string.Join(' ', arguments)} failed ({script.ExitCode}): {await errors}");
        }
        return await output;
    }
}
