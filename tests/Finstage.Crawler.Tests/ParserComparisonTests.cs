using Finstage.Crawler.Tests.Evaluation;

namespace Finstage.Crawler.Tests;

/// <summary>Runs the parser comparison over the shared fixtures and reports it; the numbers in the decision record come from here.</summary>
// Needs no server, but takes seconds to a minute (large documents, time budgets, waits): the full run only, not ./test.sh --fast.
[Trait("Lane", "Slow")]
public sealed class ParserComparisonTests(ITestOutputHelper output)
{
    [Fact(Timeout = 120_000)]
    public void Compare_OwnParserBeatsLibraries_WhenRunOverAllSharedFixtures()
    {
        var finance = FinanceTruth.Load(FixturePaths.SharedOrSkip("feeds/finance"));
        var corpus = FeedparserCorpus.Load(FixturePaths.SharedOrSkip("feeds/feedparser/tests"));

        var rows = ParserComparison.Parsers.Select(p => ParserComparison.Run(p, finance, corpus)).ToList();
        var quirks = ParserComparison.QuirkTable(ParserComparison.Parsers,
            Directory.EnumerateFiles(Path.Combine(AppContext.BaseDirectory, "Fixtures")).Where(f => !f.EndsWith(".md", StringComparison.Ordinal)));
        var table = ParserComparison.ToMarkdown(rows) + "\n" + quirks;
        output.WriteLine(table);
        foreach (var row in rows)
        {
            output.WriteLine($"## {row.Parser}: failed finance dates / documents");
            row.FailedDates.ForEach(output.WriteLine);
            output.WriteLine($"## {row.Parser}: failed Expect clauses ({row.FailedClauses.Count})");
            row.FailedClauses.ForEach(output.WriteLine);
        }

        if (FixturePaths.RepositoryRoot() is { } repo)
        {
            // Under .local/ (git-ignored, beside the servers' data): a test run never writes into the source tree.
            var outDir = Path.Combine(repo, ".local", "reports");
            Directory.CreateDirectory(outDir);
            File.WriteAllText(Path.Combine(outDir, "parser-comparison.md"), table + "\n" + string.Join("\n", rows.Select(r =>
                $"\n### {r.Parser}\n\nExceptions on the feedparser corpus, by kind:\n\n" + string.Join("\n", r.ExceptionKinds.OrderByDescending(k => k.Value).Select(k => $"- {k.Value} × {k.Key}"))
                + "\n\nFinance date failures:\n\n" + string.Join("\n", r.FailedDates.Select(l => "- " + l))
                + $"\n\nFailed Expect clauses:\n\n" + string.Join("\n", r.FailedClauses.Select(l => "- " + l)))));
        }

        var own = rows[^1];
        own.Exceptions.ShouldBe(0);
        own.FinanceDatesCorrect.ShouldBe(own.FinanceDatesExpected);
        own.NonFeedsRefused.ShouldBe(own.NonFeeds);
        own.PassRate.ShouldBeGreaterThanOrEqualTo(rows.Take(rows.Count - 1).Max(r => r.PassRate));
    }
}
