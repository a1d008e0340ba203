extern alias crawler;
using System.Diagnostics;
using crawler::Finstage.Crawler.Parsing;
using Finstage.Testing;

namespace Finstage.Bench;

/// <summary>
/// p11: the feed parser in this process on each adversarial document of <see cref="HostileFeeds.Adversarial"/>
/// (5 MB each, built to make a parser rescan) and on a benign 5 MB feed: the slowest document's MB/s over
/// the benign feed's. Each rate is the median of a few parses after a warm-up; no servers are involved.
/// </summary>
public static class ParserFigure
{
    public static Task RunAsync(BenchSettings settings, Report report, CancellationToken ct)
    {
        var rounds = settings.Quick ? 3 : 7;
        var parser = new FeedParser();
        var benign = MegabytesPerSecond(parser, HostileFeeds.BenignFiveMegabytes(), rounds);
        report.Raw("p11_benign_mb_per_s", benign);
        var slowest = double.MaxValue;
        foreach (var (name, build) in HostileFeeds.Adversarial)
        {
            ct.ThrowIfCancellationRequested();
            var rate = MegabytesPerSecond(parser, build(), rounds);
            report.Raw($"p11_{name.Replace('-', '_')}_mb_per_s", rate);
            slowest = Math.Min(slowest, rate);
        }
        report.Figure("p11_parse_adversarial_vs_benign", slowest / benign);
        return Task.CompletedTask;
    }

    private static double MegabytesPerSecond(FeedParser parser, byte[] document, int rounds)
    {
        parser.Parse(document);
        var seconds = new List<double>(rounds);
        for (var i = 0; i < rounds; i++)
        {
            var watch = Stopwatch.StartNew();
            parser.Parse(document);
            seconds.Add(watch.Elapsed.TotalSeconds);
        }
        seconds.Sort();
        return document.Length / 1e6 / seconds[rounds / 2];
    }
}
