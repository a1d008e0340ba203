namespace Finstage.Scheduler.Watchlist;

/// <summary>
/// Picks which due entries one fan-out round publishes: per host, never more than the host's rate fetches in one round,
/// and never so many that more than two rounds' worth are out unanswered (a crawler that falls behind gets less, so
/// requests neither pile up nor expire). Within a host, the most overdue first, a point of priority counting as
/// <see cref="PollingOptions.PriorityWeight"/> of lateness; lateness grows without bound, so every entry gets its turn.
/// </summary>
/// <remarks>
/// A host whose rate times the round is not a whole number keeps the fraction for its next round (in this process),
/// so 0.25 requests a second with 10 s rounds publishes 2, 3, 2, 3, … and 0.02 a second one request every fifth round.
/// </remarks>
public sealed class RoundPlanner
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, double> _carry = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The entries to publish now, per host in the order they should go out.</summary>
    /// <param name="due">Every due entry with no request out.</param>
    /// <param name="requestsPerSecond">Each host's rate for the schedule (what the crawler allows, less any share already taken).</param>
    /// <param name="inFlight">Requests already out and unanswered, per host.</param>
    public IReadOnlyList<DueEntry> Plan(
        IReadOnlyList<DueEntry> due, Func<DueEntry, double> requestsPerSecond, IReadOnlyDictionary<string, int> inFlight,
        TimeSpan round, TimeSpan priorityWeight, DateTimeOffset now)
    {
        var chosen = new List<DueEntry>();
        lock (_gate)
        {
            foreach (var host in due.GroupBy(entry => entry.Host, StringComparer.OrdinalIgnoreCase))
            {
                var perRound = Math.Max(0, requestsPerSecond(host.First())) * round.TotalSeconds;
                var allowance = Allowance(host.Key, perRound, inFlight.GetValueOrDefault(host.Key));
                var picked = host
                    .OrderByDescending(entry => (now - entry.NextDueAt).TotalSeconds + (entry.Priority * priorityWeight.TotalSeconds))
                    .ThenBy(entry => entry.Id)
                    .Take(allowance)
                    .ToList();
                _carry[host.Key] = _carry.GetValueOrDefault(host.Key) - picked.Count;
                chosen.AddRange(picked);
            }
            // A host with nothing due this round keeps at most one round's allowance, not an ever-growing credit.
            foreach (var host in _carry.Keys.ToList())
            {
                _carry[host] = Math.Max(0, _carry[host]);
            }
        }
        return chosen;
    }

    private int Allowance(string host, double perRound, int inFlight)
    {
        // Unused budget does not pile up beyond one round (rounded up to a whole request): a burst of more would exceed the host's rate.
        var credit = Math.Min(_carry.GetValueOrDefault(host) + perRound, Math.Max(Math.Ceiling(perRound - 1e-9), 1));
        _carry[host] = credit;
        var byRate = (int)Math.Floor(credit + 1e-9);
        var byBacklog = Math.Max((int)Math.Floor((2 * perRound) + 1e-9), 1) - inFlight;
        return Math.Max(0, Math.Min(byRate, byBacklog));
    }
}
