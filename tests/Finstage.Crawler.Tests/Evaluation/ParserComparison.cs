using System.Globalization;
using System.Text;
using Finstage.Crawler.Parsing;

namespace Finstage.Crawler.Tests.Evaluation;

/// <summary>Counts, per parser, what it gets right over every shared fixture; the numbers behind
/// docs/decisions/0002-feed-parser.md.</summary>
internal sealed class ParserComparison
{
    public sealed class Row(string parser)
    {
        public string Parser { get; } = parser;

        public int FinanceFeeds { get; set; }

        public int FinanceParsed { get; set; }

        public int FinanceItems { get; set; }

        public int FinanceItemsWithTitleAndLink { get; set; }

        public int FinanceDatesExpected { get; set; }

        public int FinanceDatesCorrect { get; set; }

        public int NonFeedsRefused { get; set; }

        public int NonFeeds { get; set; }

        public int CorpusDocuments { get; set; }

        public int CorpusParsed { get; set; }

        public int CorpusItems { get; set; }

        public int CorpusItemsWithLinkNoTitle { get; set; }

        public int? CorpusItemsPublished { get; set; }

        public int Exceptions { get; set; }

        public int ClausesPassed { get; set; }

        public int ClausesApplicable { get; set; }

        public List<string> FailedClauses { get; } = [];

        /// <summary>Per corpus folder (encoding, entities, illformed, wellformed): clauses passed and applicable.</summary>
        public SortedDictionary<string, (int Passed, int Applicable)> ByFolder { get; } = new(StringComparer.Ordinal);

        public List<string> FailedDates { get; } = [];

        /// <summary>Exceptions by type and the start of their message, to say what a library chokes on.</summary>
        public SortedDictionary<string, int> ExceptionKinds { get; } = new(StringComparer.Ordinal);

        public double PassRate => ClausesApplicable == 0 ? 0 : (double)ClausesPassed / ClausesApplicable;
    }

    public static IReadOnlyList<IParserUnderTest> Parsers { get; } =
        [new SyndicationParser(), new CodeHollowParser(), new OwnParser()];

    public static Row Run(IParserUnderTest parser, IReadOnlyList<FinanceTruth> finance, IReadOnlyList<CorpusCase> corpus)
    {
        var row = new Row(parser.Name);
        foreach (var capture in finance)
        {
            var view = Safely(parser, capture.Content, null);
            if (view.Exception is not null)
            {
                row.Exceptions++;
            }

            if (!capture.IsFeed)
            {
                row.NonFeeds++;
                row.NonFeedsRefused += view.Bozo || view.Version is null ? 1 : 0;
                continue;
            }

            row.FinanceFeeds++;
            row.FinanceDatesExpected += capture.DatesByUrl.Count;
            if (view.Exception is not null || (view.Bozo && view.Entries.Count == 0))
            {
                row.FailedDates.Add($"{capture.RelativePath}: not parsed ({view.Exception?.GetType().Name ?? "refused"}: {FirstLine(view.Exception?.Message)})");
                continue;
            }

            row.FinanceParsed++;
            row.FinanceItems += view.Entries.Count;
            row.FinanceItemsWithTitleAndLink += view.Entries.Count(e => !string.IsNullOrWhiteSpace(e.Title) && !string.IsNullOrWhiteSpace(e.Link));
            var seen = new HashSet<string>();
            foreach (var entry in view.Entries)
            {
                if (UrlCanonicalizer.Canonicalize(entry.Link) is { } url && capture.DatesByUrl.TryGetValue(url, out var expected) && seen.Add(url))
                {
                    if (entry.Published == expected)
                    {
                        row.FinanceDatesCorrect++;
                    }
                    else if (row.FailedDates.Count < 40)
                    {
                        row.FailedDates.Add($"{capture.RelativePath}: {url} expected {expected:O} got {entry.Published?.ToString("O", CultureInfo.InvariantCulture) ?? "none"}");
                    }
                }
            }
        }

        foreach (var test in corpus)
        {
            row.CorpusDocuments++;
            var view = Safely(parser, test.Content, test.ContentType);
            if (view.Exception is { } ex)
            {
                row.Exceptions++;
                var kind = $"{ex.GetType().Name}: {Truncate(FirstLine(ex.Message), 70)}";
                row.ExceptionKinds[kind] = row.ExceptionKinds.GetValueOrDefault(kind) + 1;
            }
            else if (view.Version is not null)
            {
                row.CorpusParsed++;
                row.CorpusItems += view.Entries.Count;
                row.CorpusItemsWithLinkNoTitle += view.Entries.Count(e => string.IsNullOrWhiteSpace(e.Title) && !string.IsNullOrWhiteSpace(e.Link));
                if (view.Published is { } published)
                {
                    row.CorpusItemsPublished = (row.CorpusItemsPublished ?? 0) + published;
                }
            }

            foreach (var (clause, outcome) in ExpectClauses.Evaluate(test.Expect, view))
            {
                if (outcome == ClauseOutcome.NotApplicable)
                {
                    continue;
                }

                row.ClausesApplicable++;
                var folder = test.RelativePath.Split('/')[0];
                var (passed, applicable) = row.ByFolder.GetValueOrDefault(folder);
                row.ByFolder[folder] = (passed + (outcome == ClauseOutcome.Passed ? 1 : 0), applicable + 1);
                if (outcome == ClauseOutcome.Passed)
                {
                    row.ClausesPassed++;
                }
                else
                {
                    row.FailedClauses.Add($"{test.RelativePath}: {clause}");
                }
            }
        }

        return row;
    }

    public static string ToMarkdown(IReadOnlyList<Row> rows)
    {
        var sb = new StringBuilder();
        sb.AppendLine("| Measure | " + string.Join(" | ", rows.Select(r => r.Parser)) + " |");
        sb.AppendLine("|---|" + string.Concat(rows.Select(_ => "---:|")));
        void Line(string name, Func<Row, string> cell) => sb.AppendLine($"| {name} | " + string.Join(" | ", rows.Select(cell)) + " |");
        Line("Finance feeds parsed", r => $"{r.FinanceParsed} / {r.FinanceFeeds}");
        Line("Finance items found", r => r.FinanceItems.ToString(CultureInfo.InvariantCulture));
        Line("Finance items with title and link", r => r.FinanceItemsWithTitleAndLink.ToString(CultureInfo.InvariantCulture));
        Line("Finance items with the correct UTC date", r => $"{r.FinanceDatesCorrect} / {r.FinanceDatesExpected}");
        Line("Sitemap (not a feed) refused", r => $"{r.NonFeedsRefused} / {r.NonFeeds}");
        Line("feedparser corpus documents read as a feed", r => $"{r.CorpusParsed} / {r.CorpusDocuments}");
        Line("feedparser corpus items found", r => r.CorpusItems.ToString(CultureInfo.InvariantCulture));
        Line("… of which with a link but no title", r => r.CorpusItemsWithLinkNoTitle.ToString(CultureInfo.InvariantCulture));
        Line("feedparser corpus items the crawler publishes", r => r.CorpusItemsPublished?.ToString(CultureInfo.InvariantCulture) ?? "–");
        Line("Exceptions thrown (all documents)", r => r.Exceptions.ToString(CultureInfo.InvariantCulture));
        Line("feedparser Expect clauses passed (applicable)", r => $"{r.ClausesPassed} / {r.ClausesApplicable} ({r.PassRate:P1})");
        foreach (var folder in rows[0].ByFolder.Keys)
        {
            Line($"… of which in {folder}/", r => r.ByFolder.GetValueOrDefault(folder) is var f ? $"{f.Passed} / {f.Applicable}" : "");
        }
        return sb.ToString();
    }

    /// <summary>What each parser makes of the project's own quirk fixtures: item count, or the failure.</summary>
    public static string QuirkTable(IReadOnlyList<IParserUnderTest> parsers, IEnumerable<string> files)
    {
        var sb = new StringBuilder();
        sb.AppendLine("| Own fixture | " + string.Join(" | ", parsers.Select(p => p.Name)) + " |");
        sb.AppendLine("|---|" + string.Concat(parsers.Select(_ => "---|")));
        foreach (var file in files.Order(StringComparer.Ordinal))
        {
            var bytes = File.ReadAllBytes(file);
            var cells = parsers.Select(p => Safely(p, bytes, null) switch
            {
                { Exception: { } ex } => $"throws {ex.GetType().Name}",
                { Version: null } => "refused",
                var v => $"{v.Entries.Count} items{(v.Bozo ? " (flagged)" : "")}",
            });
            sb.AppendLine($"| {Path.GetFileName(file)} | " + string.Join(" | ", cells) + " |");
        }

        return sb.ToString();
    }

    private static FeedView Safely(IParserUnderTest parser, byte[] content, string? contentType)
    {
        try
        {
            return parser.Parse(content, contentType);
        }
#pragma warning disable CA1031 // Any exception a library throws is a data point, not a test failure.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            return FeedView.Threw(ex);
        }
    }

    private static string Truncate(string text, int max) =>
        System.Text.RegularExpressions.Regex.Replace(text.Length <= max ? text : text[..max], @"\d+", "N");

    private static string FirstLine(string? message) => message?.Split('\n')[0].Trim() ?? "";
}
