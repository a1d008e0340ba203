using System.Collections.Concurrent;

namespace Finstage.Scheduler.Watchlist;

/// <summary>
/// What adaptive polling asks of each source, in requests a second (the sum of 1 / interval over its enabled entries),
/// as the last polling round found it; the manual crawls' budget leaves this share of the rate to the schedule.
/// </summary>
public sealed class PollingLoad
{
    private readonly ConcurrentDictionary<string, double> _demand = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Requests a second adaptive polling asks of <paramref name="source"/>; 0 before the first round.</summary>
    public double DemandOf(string source) => _demand.GetValueOrDefault(source);

    /// <summary>Replaces every source's demand with the round's.</summary>
    public void Update(IReadOnlyDictionary<string, double> demand)
    {
        foreach (var source in _demand.Keys.Except(demand.Keys, StringComparer.OrdinalIgnoreCase))
        {
            _demand.TryRemove(source, out _);
        }
        foreach (var (source, perSecond) in demand)
        {
            _demand[source] = perSecond;
        }
    }
}
