using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace Finstage.Testing;

/// <summary>
/// The Aspire dashboard as <c>./run.sh</c> runs it (<c>scripts/dashboard.sh</c>, the program from the
/// restored NuGet package), on free loopback ports: the services export to <see cref="OtlpGrpcEndpoint"/>,
/// and a test reads what arrived back through the dashboard's HTTP API (<c>/api/telemetry/*</c>).
/// </summary>
public sealed class TraceViewer : IAsyncDisposable
{
    private readonly ConcurrentQueue<string> _output = new();
    private readonly Process _process;
    private readonly HttpClient _http;

    private TraceViewer(Process process, Uri address, Uri otlpGrpc)
    {
        _process = process;
        Address = address;
        OtlpGrpcEndpoint = otlpGrpc;
        _http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
    }

    /// <summary>The UI and the API.</summary>
    public Uri Address { get; }

    /// <summary>Where services send OTLP over gRPC (their <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>).</summary>
    public Uri OtlpGrpcEndpoint { get; }

    /// <summary>The last lines the dashboard wrote, for a failure message.</summary>
    public string OutputTail => string.Join(Environment.NewLine, _output.TakeLast(40));

    /// <summary>
    /// Settings that make a service export to this dashboard: over gRPC, spans within half a second and
    /// metrics every second (rather than 5 s and a minute), so a test need not wait long for them.
    /// </summary>
    public IReadOnlyDictionary<string, string?> ExporterSettings => new Dictionary<string, string?>
    {
        ["OTEL_EXPORTER_OTLP_ENDPOINT"] = OtlpGrpcEndpoint.ToString(),
        ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "grpc",
        ["OTEL_BSP_SCHEDULE_DELAY"] = "500",
        ["OTEL_METRIC_EXPORT_INTERVAL"] = "1000",
    };

    /// <summary>Starts <c>scripts/dashboard.sh</c> and waits (up to 2 minutes: it asks MSBuild where the program is) until its API answers.</summary>
    public static async Task<TraceViewer> StartAsync(CancellationToken cancellationToken)
    {
        var address = new Uri($"http://127.0.0.1:{FreePort()}");
        var otlpGrpc = new Uri($"http://127.0.0.1:{FreePort()}");
        var start = new ProcessStartInfo("bash", [Path.Combine(Repository.Root, "scripts", "dashboard.sh")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Repository.Root,
        };
        start.Environment["FINSTAGE_DASHBOARD_URL"] = address.ToString().TrimEnd('/');
        start.Environment["FINSTAGE_DASHBOARD_OTLP_GRPC_URL"] = otlpGrpc.ToString().TrimEnd('/');
        start.Environment["FINSTAGE_DASHBOARD_OTLP_HTTP_URL"] = $"http://127.0.0.1:{FreePort()}";
        var process = Process.Start(start) ?? throw new InvalidOperationException("bash did not start scripts/dashboard.sh");
        var viewer = new TraceViewer(process, address, otlpGrpc);
        process.OutputDataReceived += (_, line) => viewer.Keep(line.Data);
        process.ErrorDataReceived += (_, line) => viewer.Keep(line.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
            while (true)
            {
                if (process.HasExited)
                {
                    throw new InvalidOperationException($"scripts/dashboard.sh exited with {process.ExitCode}:{Environment.NewLine}{viewer.OutputTail}");
                }
                try
                {
                    using var response = await viewer._http.GetAsync(new Uri("/api/telemetry/resources", UriKind.Relative), cancellationToken);
                    if (response.StatusCode == HttpStatusCode.OK)
                    {
                        return viewer;
                    }
                }
                catch (HttpRequestException)
                {
                    // Not listening yet.
                }
                if (DateTime.UtcNow > deadline)
                {
                    throw new TimeoutException($"The dashboard's API did not answer within 2 minutes:{Environment.NewLine}{viewer.OutputTail}");
                }
                await Task.Delay(200, cancellationToken);
            }
        }
        catch
        {
            await viewer.DisposeAsync();
            throw;
        }
    }

    /// <summary>Every span the dashboard holds (<c>GET /api/telemetry/spans</c>), flattened.</summary>
    public async Task<IReadOnlyList<ViewedSpan>> GetSpansAsync(CancellationToken cancellationToken) =>
        await ReadSpansAsync("/api/telemetry/spans?limit=10000", cancellationToken);

    /// <summary>The spans of one trace (<c>GET /api/telemetry/traces/{traceId}</c>), flattened.</summary>
    public async Task<IReadOnlyList<ViewedSpan>> GetTraceAsync(string traceId, CancellationToken cancellationToken) =>
        await ReadSpansAsync($"/api/telemetry/traces/{traceId}", cancellationToken);

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        // SIGTERM: the script exec'd the dashboard, so this pid is the dashboard itself.
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

    private async Task<IReadOnlyList<ViewedSpan>> ReadSpansAsync(string path, CancellationToken cancellationToken)
    {
        using var response = await _http.GetAsync(new Uri(path, UriKind.Relative), cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return [];
        }
        response.EnsureSuccessStatusCode();
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
        // OTLP/JSON: resourceSpans[].resource.attributes (service.name) and scopeSpans[].scope.name / spans[].
        var spans = new List<ViewedSpan>();
        foreach (var resourceSpans in document.RootElement.GetProperty("data").GetProperty("resourceSpans").EnumerateArray())
        {
            var service = Attributes(resourceSpans.GetProperty("resource")).GetValueOrDefault("service.name") ?? "";
            foreach (var scopeSpans in resourceSpans.GetProperty("scopeSpans").EnumerateArray())
            {
                var scope = scopeSpans.TryGetProperty("scope", out var s) && s.TryGetProperty("name", out var name) ? name.GetString() ?? "" : "";
                foreach (var span in scopeSpans.GetProperty("spans").EnumerateArray())
                {
                    spans.Add(new ViewedSpan(
                        service, scope,
                        span.GetProperty("traceId").GetString()!,
                        span.GetProperty("spanId").GetString()!,
                        span.TryGetProperty("parentSpanId", out var parent) ? parent.GetString() ?? "" : "",
                        span.GetProperty("name").GetString()!,
                        span.TryGetProperty("kind", out var kind) ? kind.ToString() : "",
                        Attributes(span)));
                }
            }
        }
        return spans;
    }

    private static Dictionary<string, string> Attributes(JsonElement owner)
    {
        var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
        if (owner.TryGetProperty("attributes", out var list))
        {
            foreach (var attribute in list.EnumerateArray())
            {
                // OTLP/JSON wraps each value by type: {"stringValue": "..."}, {"intValue": "3"}, ...
                var value = attribute.GetProperty("value").EnumerateObject().FirstOrDefault();
                attributes[attribute.GetProperty("key").GetString()!] =
                    value.Value.ValueKind == JsonValueKind.String ? value.Value.GetString()! : value.Value.ToString();
            }
        }
        return attributes;
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }
        _output.Enqueue(line);
        while (_output.Count > 400 && _output.TryDequeue(out _))
        {
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>One span as the dashboard's API gave it back: the service that sent it, its source (scope) and its attributes.</summary>
public sealed record ViewedSpan(
    string Service, string Scope, string TraceId, string SpanId, string ParentSpanId, string Name, string Kind,
    IReadOnlyDictionary<string, string> Attributes)
{
    public override string ToString() => $"{Service} [{Scope}] {Name} ({Kind}) trace {TraceId}";
}
