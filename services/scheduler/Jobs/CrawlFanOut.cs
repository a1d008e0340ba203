using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Finstage.Contracts;
using Finstage.Scheduler.Watchlist;
using Finstage.ServiceDefaults;
using Hangfire;
using Hangfire.Server;
using Hangfire.Storage;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Finstage.Scheduler.Jobs;

/// <summary>
/// The fan-out job: one <see cref="CrawlRequested"/> per symbol, all with one cycle id. Safe to
/// repeat: a retry of the same job run publishes the same crawl ids, which storage records once.
/// Scheduled cycles are published (the crawler's <c>fetch-news</c> queue); crawls asked for by hand
/// are sent to a queue of their own, so they never wait in front of a scheduled cycle.
/// </summary>
public sealed class CrawlFanOut(
    IBus bus,
    IOptions<BusOptions> busOptions,
    IOptionsMonitor<ScheduleOptions> schedule,
    IOptionsMonitor<PollingOptions> polling,
    WatchlistStore watchlist,
    RoundPlanner planner,
    PollingLoad load,
    JobStorage storage,
    SchedulerMetrics metrics,
    TimeProvider clock,
    ILogger<CrawlFanOut> logger)
{
    /// <summary>The recurring job that publishes the due entries of the watchlist.</summary>
    public const string PollJobId = "poll-watchlist";

    private static readonly Uri ManualQueue = new("queue:" + Queues.ManualCrawls);

    /// <summary>
    /// One round of adaptive polling: publishes the watchlist's due entries within each host's budget for the round
    /// (<see cref="RoundPlanner"/>), and marks them requested. The recurring job <see cref="PollJobId"/> runs it every
    /// <see cref="PollingOptions.Round"/>; a round that finds the previous one still running steps aside.
    /// </summary>
    // A round is superseded by the next within seconds: a failed one is not worth retrying.
    [AutomaticRetry(Attempts = 0, OnAttemptsExceeded = AttemptsExceededAction.Delete)]
    [JobDisplayName("Poll the watchlist")]
    public async Task<int> RunDueAsync(PerformContext? context, CancellationToken cancellationToken)
    {
        using var connection = storage.GetConnection();
        IDisposable lease;
        try
        {
            lease = connection.AcquireDistributedLock("finstage:fan-out:poll", TimeSpan.Zero);
        }
        catch (DistributedLockTimeoutException)
        {
            logger.LogDebug("The previous polling round is still running; this one is skipped");
            return 0;
        }
        using (lease)
        {
            var options = schedule.CurrentValue;
            var round = polling.CurrentValue;
            var now = clock.GetUtcNow();
            var swept = options.SweptGroups();
            load.Update(await watchlist.DemandAsync(swept, cancellationToken));
            var due = await watchlist.DueAsync(swept, now, cancellationToken);
            if (due.Count == 0)
            {
                return 0;
            }
            var inFlight = await watchlist.InFlightAsync(now, cancellationToken);
            var planned = planner.Plan(due, entry => RateForSchedule(options, entry, now), inFlight, round.Round, round.PriorityWeight, now);
            var cycleId = DeterministicGuid("cycle:" + (context?.BackgroundJob.Id ?? Guid.NewGuid().ToString()));
            var notAfter = now + options.RequestTimeToLive;
            // Marked before the publish: a result can be back within milliseconds of it, and a mark written after the
            // result would hold its entry for a whole time to live. A round that fails half-way unmarks what is still
            // marked, so its entries are published again next round (the same crawl ids) rather than waiting that long.
            // Only what this round marked is published: an entry another instance's round took first is its to request.
            var marked = (await watchlist.MarkRequestedAsync([.. planned.Select(entry => entry.Id)], now, notAfter, cancellationToken)).ToHashSet();
            var chosen = planned.Where(entry => marked.Contains(entry.Id)).ToList();
            if (chosen.Count < planned.Count)
            {
                logger.LogWarning("Polling round {CycleId}: {Taken} of {Planned} entries were requested by another round first; not requested again",
                    cycleId, planned.Count - chosen.Count, planned.Count);
            }
            var requests = chosen
                .Select(entry => new CrawlRequested(
                    DeterministicGuid($"crawl:{cycleId:N}:{entry.Source}:{entry.Symbol}"), cycleId, entry.Source, entry.Symbol, now, notAfter, entry.FeedUrl))
                .ToList();
            long[] ids = [.. chosen.Select(entry => entry.Id)];
            try
            {
                await PublishAllAsync(requests, manualQueue: null, cancellationToken);
            }
            catch
            {
                await watchlist.UnmarkRequestedAsync(ids, now, notAfter, CancellationToken.None);
                throw;
            }
            foreach (var host in chosen.GroupBy(entry => entry.Source))
            {
                metrics.RecordFanOut(host.Key, host.Count());
            }
            if (chosen.Count < due.Count)
            {
                logger.LogInformation("Polling round {CycleId}: requested {Count} of {Due} due entries; the rest wait for their hosts' budget",
                    cycleId, chosen.Count, due.Count);
            }
            return chosen.Count;
        }
    }

    // The source's rate, less what swept groups of the same source take of it; a feed URL's host has the source's rate to itself.
    private static double RateForSchedule(ScheduleOptions options, DueEntry entry, DateTimeOffset now)
    {
        var rate = options.RequestsPerSecondOf(entry.Source);
        if (entry.FeedUrl is not null)
        {
            return rate;
        }
        var window = options.RequestTimeToLive;
        var swept = ManualCrawlBudget.SweptCrawls(options, entry.Source, now, now + window) / window.TotalSeconds;
        return Math.Max(0, rate - swept);
    }

    /// <summary>Runs a swept group (one with a <c>Cron</c>): every enabled entry of the group, as the recurring job of the group does.</summary>
    // A fan-out fails almost only because the broker is away, and a broker restarts in seconds: retry
    // soon, then back off (about five minutes in all), rather than Hangfire's random 15 s to 3 min.
    [AutomaticRetry(Attempts = 5, DelaysInSeconds = [10, 20, 40, 80, 160], OnAttemptsExceeded = AttemptsExceededAction.Fail)]
    [JobDisplayName("Crawl group {0}")]
    public async Task<int> RunGroupAsync(string group, PerformContext? context, CancellationToken cancellationToken)
    {
        if (!schedule.CurrentValue.Groups.TryGetValue(group, out var configured))
        {
            logger.LogWarning("Group {Group} is no longer configured; nothing to crawl", group);
            return 0;
        }
        // The watchlist in the database is the truth: what was paused or removed through the API is not crawled.
        var entries = (await watchlist.GroupAsync(group, cancellationToken))
            .Where(entry => string.Equals(entry.Source, configured.Source, StringComparison.OrdinalIgnoreCase)).ToList();
        // The job id names the run, so every retry of it is the same cycle.
        var cycleId = DeterministicGuid("cycle:" + (context?.BackgroundJob.Id ?? Guid.NewGuid().ToString()));
        return await FanOutAsync(
            "group:" + group, configured.Source, [.. entries.Select(entry => entry.Symbol)], cycleId, byHand: false, cancellationToken, FeedUrls(entries));
    }

    /// <summary>Runs a crawl asked for by hand (POST /api/crawls), under the cycle id already handed out.</summary>
    [AutomaticRetry(Attempts = 5, DelaysInSeconds = [10, 20, 40, 80, 160], OnAttemptsExceeded = AttemptsExceededAction.Fail)]
    [JobDisplayName("Crawl {0} by request")]
    public async Task<int> RunRequestAsync(string source, string[] symbols, Guid cycleId, CancellationToken cancellationToken)
    {
        // A symbol that names a feed by URL on the watchlist is fetched from that URL by hand too.
        var entries = (await watchlist.ListAsync(cancellationToken))
            .Where(entry => entry.FeedUrl is not null && string.Equals(entry.Source, source, StringComparison.OrdinalIgnoreCase));
        return await FanOutAsync("request:" + cycleId, source, symbols, cycleId, byHand: true, cancellationToken, FeedUrls(entries));
    }

    private static Dictionary<string, string> FeedUrls(IEnumerable<WatchlistEntry> entries) =>
        entries.Where(entry => entry.FeedUrl is not null).ToDictionary(entry => entry.Symbol, entry => entry.FeedUrl!, StringComparer.Ordinal);

    /// <summary>
    /// Publishes a cycle over the given symbols as a group's scheduled run does, without a group in the
    /// configuration (the benchmark drives whole cycles with it).
    /// </summary>
    public Task<int> RunCycleAsync(string source, IReadOnlyList<string> symbols, Guid cycleId, CancellationToken cancellationToken) =>
        FanOutAsync("cycle:" + cycleId, source, symbols, cycleId, byHand: false, cancellationToken);

    private async Task<int> FanOutAsync(
        string lockName, string source, IReadOnlyList<string> symbols, Guid cycleId, bool byHand, CancellationToken cancellationToken,
        IReadOnlyDictionary<string, string>? feedUrls = null)
    {
        // A run never overlaps itself: if the previous one still holds the lock, this one steps aside.
        using var connection = storage.GetConnection();
        IDisposable lease;
        try
        {
            lease = connection.AcquireDistributedLock("finstage:fan-out:" + lockName, TimeSpan.Zero);
        }
        catch (DistributedLockTimeoutException)
        {
            logger.LogWarning("Fan-out {Run} is still running; this run is skipped", lockName);
            return 0;
        }
        using (lease)
        {
            var now = clock.GetUtcNow();
            var notAfter = now + schedule.CurrentValue.RequestTimeToLive;
            var requests = symbols.Distinct(StringComparer.Ordinal)
                .Select(symbol => new CrawlRequested(
                    DeterministicGuid($"crawl:{cycleId:N}:{source}:{symbol}"), cycleId, source, symbol, now, notAfter,
                    feedUrls?.GetValueOrDefault(symbol)))
                .ToList();
            // Sent by name, not published: a publish would reach fetch-news too, and every other queue bound to the request's type.
            var manualQueue = byHand ? await bus.GetSendEndpoint(ManualQueue) : null;
            await PublishAllAsync(requests, manualQueue, cancellationToken);
            metrics.RecordFanOut(source, requests.Count);
            logger.LogInformation("Cycle {CycleId}: requested {Count} {Source} crawls{ByHand}", cycleId, requests.Count, source, byHand ? " by hand" : "");
            return requests.Count;
        }
    }

    private async Task PublishAllAsync(IReadOnlyList<CrawlRequested> requests, ISendEndpoint? manualQueue, CancellationToken cancellationToken)
    {
        // Each publish has Bus:PublishTimeout to be confirmed, counted from when it is sent: a
        // deadline for the whole fan-out would fail a large watchlist on a busy machine although
        // the broker confirms every request. A bounded number in flight keeps the pipeline full.
        var fanOut = new ParallelOptions
        {
            MaxDegreeOfParallelism = schedule.CurrentValue.MaxPublishesInFlight,
            CancellationToken = cancellationToken,
        };
        await Parallel.ForEachAsync(requests, fanOut, async (request, ct) =>
        {
            using var deadline = busOptions.PublishDeadline(ct);
            await PublishAsync(request, manualQueue, deadline.Token);
        });
    }

    // Each symbol's crawl is its own subtree of the job's trace, so one symbol can be followed
    // from this publish through the crawler's fetch to the storage's write.
    private async Task PublishAsync(CrawlRequested request, ISendEndpoint? manualQueue, CancellationToken cancellationToken)
    {
        using var activity = Telemetry.Source.StartActivity("request crawl", ActivityKind.Producer);
        activity?.SetTag("finstage.source", request.Source);
        activity?.SetTag("finstage.symbol", request.Symbol);
        activity?.SetTag("finstage.crawl.id", request.CrawlId);
        activity?.SetTag("finstage.crawl.by_hand", manualQueue is not null);
        if (manualQueue is null)
        {
            await bus.Publish(request, cancellationToken);
        }
        else
        {
            await manualQueue.Send(request, cancellationToken);
        }
    }

    // Name-based ids: the same name always gives the same id (RFC 4122 version 5 layout over SHA-1).
    internal static Guid DeterministicGuid(string name)
    {
        Span<byte> hash = stackalloc byte[SHA1.HashSizeInBytes];
#pragma warning disable CA5350 // SHA-1 here only spreads names over ids, as UUID version 5 specifies; it guards nothing.
        SHA1.HashData(Encoding.UTF8.GetBytes(name), hash);
#pragma warning restore CA5350
        var bytes = hash[..16].ToArray();
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x50);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes, bigEndian: true);
    }
}
