using System.Diagnostics.Metrics;
using Finstage.ServiceDefaults;
using Hangfire;
using Hangfire.Storage.Monitoring;

namespace Finstage.Scheduler.Jobs;

/// <summary>The scheduler's <c>finstage.*</c> metrics: fan-out sizes, and Hangfire's jobs by state (docs/observability.md).</summary>
public sealed class SchedulerMetrics
{
    private readonly Histogram<int> _fanOutSize;

    public SchedulerMetrics(IMeterFactory meters, JobStorage jobs, ILogger<SchedulerMetrics> logger)
    {
        var meter = meters.Create(Telemetry.MeterName);
        _fanOutSize = meter.CreateHistogram<int>("finstage.scheduler.fanout.size", "{request}", "Crawl requests one fan-out published.");
        // Read from Hangfire's storage (the figures of its dashboard's home page) only when an exporter collects.
        meter.CreateObservableGauge("finstage.scheduler.jobs", () => JobCounts(jobs, logger), "{job}",
            "Hangfire jobs by state: enqueued, scheduled, processing, awaiting, failed and retries now; succeeded and deleted since the tables were made.");
    }

    internal void RecordFanOut(string source, int requests) =>
        _fanOutSize.Record(requests, new KeyValuePair<string, object?>("source", source));

    private static IEnumerable<Measurement<long>> JobCounts(JobStorage jobs, ILogger logger)
    {
        StatisticsDto statistics;
        try
        {
            statistics = jobs.GetMonitoringApi().GetStatistics();
        }
        catch (Exception exception)
        {
            // The database is away: no figures this time (the readiness check says why), and the export goes on.
            logger.LogDebug(exception, "Could not read Hangfire's job statistics");
            return [];
        }
        return
        [
            State("enqueued", statistics.Enqueued),
            State("scheduled", statistics.Scheduled),
            State("processing", statistics.Processing),
            State("awaiting", statistics.Awaiting ?? 0),
            State("failed", statistics.Failed),
            State("retries", statistics.Retries ?? 0),
            State("succeeded", statistics.Succeeded),
            State("deleted", statistics.Deleted),
        ];
    }

    private static Measurement<long> State(string state, long count) => new(count, new KeyValuePair<string, object?>("state", state));
}
