using Finstage.Scheduler.Jobs;
using Microsoft.Extensions.Options;

namespace Finstage.Scheduler.Watchlist;

/// <summary>
/// Writes each <c>Schedule:Groups</c> group into the watchlist the first time the scheduler sees the group; afterwards
/// the database is the truth, so what was changed through the API survives restarts. With <c>Schedule:CrawlOnStart</c>,
/// makes every entry polled adaptively due now.
/// </summary>
internal sealed class SeedWatchlist(
    WatchlistStore watchlist, IOptions<ScheduleOptions> schedule, IOptions<PollingOptions> polling, TimeProvider clock, ILogger<SeedWatchlist> logger)
    : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        foreach (var (name, group) in schedule.Value.Groups)
        {
            var entries = group.Symbols.Distinct(StringComparer.Ordinal)
                .Select(symbol => new EntrySettings(group.Source, symbol.Trim(), null, true, group.Priority, group.MinInterval, group.MaxInterval, name))
                .Concat(group.Feeds.Select(feed => new EntrySettings(group.Source, feed.Key, feed.Value, true, group.Priority, group.MinInterval, group.MaxInterval, name)))
                .ToList();
            var initial = polling.Value.BoundsFor(group.MinInterval, group.MaxInterval).Clamp(polling.Value.InitialInterval);
            var added = await watchlist.SeedAsync(name, entries, initial, now, cancellationToken);
            if (added > 0)
            {
                logger.LogInformation("Seeded the watchlist with {Count} {Source} entries of group {Group}", added, group.Source, name);
            }
        }
        if (schedule.Value.CrawlOnStart)
        {
            await watchlist.MakeAllDueAsync(schedule.Value.SweptGroups(), now, cancellationToken);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
