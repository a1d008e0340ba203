using System.Diagnostics.Metrics;
using Finstage.ServiceDefaults;

namespace Finstage.Scheduler.Jobs;

/// <summary>The scheduler's <c>finstage.*</c> metrics.</summary>
public sealed class SchedulerMetrics
{
    private readonly Histogram<int> _fanOutSize;

    public SchedulerMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(Telemetry.MeterName);
        _fanOutSize = meter.CreateHistogram<int>("finstage.scheduler.fanout.size", "{request}", "Crawl requests one fan-out published.");
    }

    internal void RecordFanOut(string source, int requests) =>
        _fanOutSize.Record(requests, new KeyValuePair<string, object?>("source", source));
}
