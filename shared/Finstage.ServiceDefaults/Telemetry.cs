using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;

namespace Finstage.ServiceDefaults;

/// <summary>The one activity source and meter under which every Finstage service reports.</summary>
public static class Telemetry
{
    public const string SourceName = "Finstage";
    public const string MeterName = "Finstage";

    public static readonly ActivitySource Source = new(SourceName);
}

/// <summary>
/// With no exporter the sampler records nothing, and OpenTelemetry then creates no activity at all
/// under a local parent: MassTransit would publish without a trace header, and each service would
/// log its part of a crawl under a trace id of its own. This keeps our own and MassTransit's
/// activities in being, unrecorded (no tags, nothing exported), so one crawl keeps one trace id in
/// every service's logs from the scheduler's job to the storage's write.
/// </summary>
internal sealed class UnrecordedTraceContext : IHostedService, IDisposable
{
    private readonly ActivityListener _listener = new()
    {
        ShouldListenTo = source => source.Name is Telemetry.SourceName or "MassTransit",
        Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.PropagationData,
    };

    public Task StartAsync(CancellationToken cancellationToken)
    {
        ActivitySource.AddActivityListener(_listener);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose() => _listener.Dispose();
}
