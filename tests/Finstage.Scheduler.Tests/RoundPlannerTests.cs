using Finstage.Scheduler.Watchlist;

namespace Finstage.Scheduler.Tests;

/// <summary>Which due entries one polling round publishes: never more than each host's budget for the round.</summary>
[Trait("Category", "Reliability")]
[Trait("Lane", "Fast")]
public sealed class RoundPlannerTests
{
    private static readonly DateTimeOffset Noon = new(2026, 8, 14, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Round = TimeSpan.FromSeconds(10);
    private static readonly Dictionary<string, int> NothingOut = [];

    [Fact(Timeout = 10_000)]
    public void Plan_PublishesNoMoreThanTheHostsRateTimesTheRound_MostOverdueFirst_WhenMoreIsDue()
    {
        var planner = new RoundPlanner();
        // 50 entries due on one host that takes 1 request a second: 10 per 10-second round.
        var due = Enumerable.Range(0, 50).Select(i => Entry(i, "yahoo", overdueSeconds: i)).ToList();

        var chosen = planner.Plan(due, _ => 1, NothingOut, Round, TimeSpan.FromMinutes(1), Noon);

        chosen.Count.ShouldBe(10);
        chosen.Select(entry => entry.Id).ShouldBe(Enumerable.Range(40, 10).Reverse().Select(i => (long)i));
    }

    [Fact(Timeout = 10_000)]
    public void Plan_KeepsAtMostTwoRoundsOut_WhenTheCrawlerHasNotAnsweredEarlierRequests()
    {
        var planner = new RoundPlanner();
        var due = Enumerable.Range(0, 50).Select(i => Entry(i, "yahoo", overdueSeconds: i)).ToList();

        var oneOut = planner.Plan(due, _ => 1, new Dictionary<string, int> { ["yahoo"] = 10 }, Round, TimeSpan.Zero, Noon);
        var fifteenOut = planner.Plan(due, _ => 1, new Dictionary<string, int> { ["yahoo"] = 15 }, Round, TimeSpan.Zero, Noon);
        var twoOut = planner.Plan(due, _ => 1, new Dictionary<string, int> { ["yahoo"] = 20 }, Round, TimeSpan.Zero, Noon);

        oneOut.Count.ShouldBe(10);
        fifteenOut.Count.ShouldBe(5);
        twoOut.ShouldBeEmpty("a crawler two rounds behind gets nothing more until it answers");
    }

    [Fact(Timeout = 10_000)]
    public void Plan_GivesEachHostItsOwnBudget_WhenEntriesOfSeveralHostsAreDue()
    {
        var planner = new RoundPlanner();
        var due = Enumerable.Range(0, 30).Select(i => Entry(i, "yahoo", i))
            .Concat(Enumerable.Range(100, 30).Select(i => Entry(i, "investing", i)))
            .Concat(Enumerable.Range(200, 30).Select(i => Entry(i, "feeds.example.com", i, source: "feed")))
            .ToList();

        var chosen = planner.Plan(due, entry => entry.Source == "yahoo" ? 2 : 0.5, NothingOut, Round, TimeSpan.Zero, Noon);

        chosen.Count(entry => entry.Host == "yahoo").ShouldBe(20);
        chosen.Count(entry => entry.Host == "investing").ShouldBe(5);
        chosen.Count(entry => entry.Host == "feeds.example.com").ShouldBe(5);
    }

    [Fact(Timeout = 10_000)]
    public void Plan_SpreadsAFractionalBudgetOverRounds_WhenTheRateTimesTheRoundIsNotWhole()
    {
        var planner = new RoundPlanner();
        var due = Enumerable.Range(0, 100).Select(i => Entry(i, "slow", i)).ToList();

        // 0.25 requests a second: 2.5 a round, so 2 and 3 in turn, and never more than 3 in one round.
        var perRound = Enumerable.Range(0, 8).Select(_ => planner.Plan(due, _ => 0.25, NothingOut, Round, TimeSpan.Zero, Noon).Count).ToList();
        // 0.02 a second: one request every fifth round.
        var rare = Enumerable.Range(0, 10).Select(_ => planner.Plan(due, _ => 0.02, NothingOut, Round, TimeSpan.Zero, Noon).Count).ToList();

        perRound.Sum().ShouldBe(20);
        perRound.ShouldAllBe(count => count == 2 || count == 3);
        rare.Sum().ShouldBe(2);
    }

    [Fact(Timeout = 10_000)]
    public void Plan_PutsHigherPriorityFirst_ButLetsTheStalestThroughOnceItIsLateEnough()
    {
        var planner = new RoundPlanner();
        var core = Enumerable.Range(0, 10).Select(i => Entry(i, "yahoo", overdueSeconds: 5, priority: 10)).ToList();
        var fresh = Entry(99, "yahoo", overdueSeconds: 60);
        var stale = Entry(98, "yahoo", overdueSeconds: 3600);

        // One point of priority counts as a minute of lateness: 10 points beat a minute, not an hour.
        var chosen = planner.Plan([.. core, fresh, stale], _ => 1, NothingOut, Round, TimeSpan.FromMinutes(1), Noon);

        chosen.Count.ShouldBe(10);
        chosen[0].Id.ShouldBe(98);
        chosen.ShouldNotContain(entry => entry.Id == 99);
    }

    [Theory(Timeout = 10_000)]
    [InlineData(0.25)]
    [InlineData(0.02)]
    [InlineData(1.37)]
    public void Plan_PublishesNoMorePerRoundThanOneInstance_AndAtMostOneRequestMorePerInstanceOverAnyRun_WhenTwoInstancesTakeTurns(double rate)
    {
        // Two scheduler instances, each with its own carried fraction, run the rounds in an order nobody chooses
        // (whichever Hangfire server fetches the job): a fixed seed stands in for it.
        var instances = new[] { new RoundPlanner(), new RoundPlanner() };
        var turns = new Random(15);
        var due = Enumerable.Range(0, 100).Select(i => Entry(i, "slow", i)).ToList();
        var perRound = rate * Round.TotalSeconds;
        var counts = Enumerable.Range(0, 300)
            .Select(_ => instances[turns.Next(2)].Plan(due, _ => rate, NothingOut, Round, TimeSpan.Zero, Noon).Count).ToList();

        // A round: what one instance alone may publish, the budget rounded up to a whole request (at least one).
        counts.ShouldAllBe(count => count <= Math.Max(Math.Ceiling(perRound - 1e-9), 1));
        // Any run of rounds: the budget of its rounds plus what each instance had carried in, less than one request each.
        var before = new int[counts.Count + 1];
        for (var i = 0; i < counts.Count; i++)
        {
            before[i + 1] = before[i] + counts[i];
        }
        for (var start = 0; start < counts.Count; start++)
        {
            for (var end = start + 1; end <= counts.Count; end++)
            {
                ((double)(before[end] - before[start])).ShouldBeLessThanOrEqualTo(((end - start) * perRound) + instances.Length, $"rounds {start} to {end - 1}");
            }
        }
        // And nothing lost to the turns: as much as one instance alone publishes in as many rounds, less one per instance.
        var alone = new RoundPlanner();
        var single = Enumerable.Range(0, counts.Count).Sum(_ => alone.Plan(due, _ => rate, NothingOut, Round, TimeSpan.Zero, Noon).Count);
        counts.Sum().ShouldBeGreaterThanOrEqualTo(single - instances.Length);
    }

    private static DueEntry Entry(long id, string host, double overdueSeconds, int priority = 0, string? source = null) =>
        new(id, source ?? host, "S" + id, null, host, priority, Noon - TimeSpan.FromSeconds(overdueSeconds));
}
