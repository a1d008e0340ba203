using Hangfire;
using Hangfire.Storage;
using Finstage.Scheduler.Watchlist;
using Microsoft.Extensions.Options;

namespace Finstage.Scheduler.Jobs;

/// <summary>
/// Registers the polling round (<see cref="CrawlFanOut.PollJobId"/>, every <see cref="PollingOptions.Round"/>) and one
/// recurring job per swept group at start-up, and removes the jobs of groups no longer swept, so the dashboard always
/// shows the configuration's schedule; with <see cref="ScheduleOptions.CrawlOnStart"/>, runs each swept group once straight away.
/// </summary>
internal sealed class RegisterRecurringJobs(
    IRecurringJobManager recurringJobs, JobStorage storage, IOptions<ScheduleOptions> schedule, IOptions<PollingOptions> polling,
    ILogger<RegisterRecurringJobs> logger)
    : IHostedService
{
    public const string JobIdPrefix = "crawl-";

    public Task StartAsync(CancellationToken cancellationToken)
    {
        recurringJobs.AddOrUpdate<CrawlFanOut>(
            CrawlFanOut.PollJobId, job => job.RunDueAsync(null, CancellationToken.None), polling.Value.RoundCron,
            new RecurringJobOptions { TimeZone = TimeZoneInfo.Utc });
        var wanted = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, group) in schedule.Value.Groups.Where(pair => pair.Value.Cron is not null))
        {
            var id = JobIdPrefix + name.ToLowerInvariant();
            wanted.Add(id);
            recurringJobs.AddOrUpdate<CrawlFanOut>(
                id, job => job.RunGroupAsync(name, null, CancellationToken.None), group.Cron!, new RecurringJobOptions { TimeZone = TimeZoneInfo.Utc });
            logger.LogInformation("Recurring job {JobId}: {Count} {Source} symbols on '{Cron}'", id, group.Symbols.Count, group.Source, group.Cron);
            if (schedule.Value.CrawlOnStart)
            {
                recurringJobs.Trigger(id);
            }
        }
        using var connection = storage.GetConnection();
        foreach (var job in connection.GetRecurringJobs())
        {
            if (job.Id.StartsWith(JobIdPrefix, StringComparison.Ordinal) && !wanted.Contains(job.Id))
            {
                recurringJobs.RemoveIfExists(job.Id);
                logger.LogInformation("Removed recurring job {JobId}: its group is no longer configured with a cron", job.Id);
            }
        }
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
