using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Finstage.Testing;

/// <summary>
/// A Finstage service running as its own process (its built dll under <c>dotnet</c>, settings by
/// environment variables), as it runs in production: what a fault test kills and restarts, and
/// whose memory it reads from <c>/proc</c>.
/// </summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private const int OutputLinesKept = 400;

    private readonly string _dll;
    private readonly IReadOnlyDictionary<string, string?> _settings;
    private readonly string? _workingDirectory;
    private readonly ConcurrentQueue<string> _output = new();
    private Process _process = null!;

    private ServiceProcess(string name, string dll, IReadOnlyDictionary<string, string?> settings, string? workingDirectory)
    {
        Name = name;
        _dll = dll;
        _settings = settings;
        _workingDirectory = workingDirectory;
    }

    public string Name { get; }

    /// <summary>Where its HTTP endpoints (health, APIs) answer; a new free port on every start.</summary>
    public Uri BaseAddress { get; private set; } = null!;

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>The last lines it wrote to stdout and stderr, for a failure message.</summary>
    public string OutputTail => string.Join(Environment.NewLine, _output.TakeLast(40));

    /// <summary>
    /// Starts <paramref name="dll"/> with <paramref name="settings"/> as environment variables
    /// (<c>Section__Key</c>) and waits until <c>/health/ready</c> answers 200.
    /// </summary>
    /// <param name="workingDirectory">
    /// Its content root. Null runs it in an empty folder, so that no <c>appsettings.json</c>
    /// adds settings (a watchlist, production URLs) the test did not give.
    /// </param>
    public static async Task<ServiceProcess> StartAsync(
        string name, string dll, IReadOnlyDictionary<string, string?> settings, CancellationToken cancellationToken, string? workingDirectory = null)
    {
        var service = new ServiceProcess(name, dll, settings, workingDirectory);
        await service.LaunchAsync(cancellationToken);
        return service;
    }

    /// <summary>
    /// Runs one command of a service's binary to its end (e.g. <c>migrate</c>), settings as for
    /// <see cref="StartAsync"/>; throws with its output unless it exits 0.
    /// </summary>
    public static async Task RunCommandAsync(
        string name, string dll, IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string?> settings, CancellationToken cancellationToken)
    {
        var start = Describe(name, [dll, .. arguments], settings, workingDirectory: null);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"dotnet did not start {name} {string.Join(' ', arguments)}");
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var errors = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"{name} {string.Join(' ', arguments)} exited with {process.ExitCode}:{Environment.NewLine}{await output}{await errors}");
        }
    }

    /// <summary>Kills it with SIGKILL: no shutdown, no acknowledgements, connections cut as in a crash.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }
        await _process.WaitForExitAsync(CancellationToken.None);
    }

    /// <summary>Starts it again with the same settings, as an operator (or an orchestrator) would after a crash.</summary>
    public async Task RestartAsync(CancellationToken cancellationToken)
    {
        await KillAsync();
        _process.Dispose();
        await LaunchAsync(cancellationToken);
    }

    /// <summary>
    /// Whether <c>/health/ready</c> answers 200 now; no answer, or a slow one, counts as not ready.
    /// </summary>
    public async Task<bool> IsReadyAsync(CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        try
        {
            using var ready = await http.GetAsync(new Uri("/health/ready", UriKind.Relative), cancellationToken);
            return ready.StatusCode == HttpStatusCode.OK;
        }
        catch (HttpRequestException)
        {
            return false;
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>Its resident memory now (<c>VmRSS</c>), in MB.</summary>
    public double? ResidentMegabytes => ReadStatus("VmRSS");

    /// <summary>The most it has held resident since it started (<c>VmHWM</c>), in MB.</summary>
    public double? PeakResidentMegabytes => ReadStatus("VmHWM");

    public async ValueTask DisposeAsync()
    {
        if (_process is null)
        {
            return;
        }
        // SIGTERM first, so it leaves the broker cleanly; SIGKILL if it does not go in time.
        if (!_process.HasExited)
        {
            using (var term = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]))
            {
                await term.WaitForExitAsync(CancellationToken.None);
            }
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            try
            {
                await _process.WaitForExitAsync(grace.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync(CancellationToken.None);
            }
        }
        _process.Dispose();
    }

    private async Task LaunchAsync(CancellationToken cancellationToken)
    {
        BaseAddress = new Uri($"http://127.0.0.1:{FreePort()}");
        var start = Describe(Name, [_dll], _settings, _workingDirectory);
        start.Environment["Urls"] = BaseAddress.ToString();

        _process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start " + Name);
        // Always drained: a full pipe would block the service.
        _process.OutputDataReceived += (_, line) => Keep(line.Data);
        _process.ErrorDataReceived += (_, line) => Keep(line.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        using var http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"{Name} exited with {_process.ExitCode} while starting:{Environment.NewLine}{OutputTail}");
            }
            try
            {
                using var ready = await http.GetAsync(new Uri("/health/ready", UriKind.Relative), cancellationToken);
                if (ready.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // Listening but slow to answer while it starts.
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{Name} was not ready within 2 minutes:{Environment.NewLine}{OutputTail}");
            }
            await Task.Delay(100, cancellationToken);
        }
    }

    private static ProcessStartInfo Describe(
        string name, IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string?> settings, string? workingDirectory)
    {
        var start = new ProcessStartInfo("dotnet", arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory ?? Directory.CreateTempSubdirectory("finstage-" + name + "-").FullName,
        };
        // Production-like by default; the test's own settings come last and win.
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["MASSTRANSIT_USAGE_TELEMETRY"] = "false";
        start.Environment["OTEL_EXPORTER_OTLP_ENDPOINT"] = "";
        foreach (var (key, value) in settings)
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }
        return start;
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }
        _output.Enqueue(line);
        while (_output.Count > OutputLinesKept && _output.TryDequeue(out _))
        {
        }
    }

    private double? ReadStatus(string key)
    {
        try
        {
            var line = File.ReadLines($"/proc/{_process.Id}/status").FirstOrDefault(l => l.StartsWith(key + ":", StringComparison.Ordinal));
            return line is null ? null : double.Parse(line.Split(':')[1].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024;
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
