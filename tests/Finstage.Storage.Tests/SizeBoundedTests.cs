using Finstage.Storage.Writing;

namespace Finstage.Storage.Tests;

[Trait("Lane", "Fast")]
public sealed class SizeBoundedTests
{
    [Fact(Timeout = 10_000)]
    public void Groups_ClosesEachGroupAtTheCountBound_WhenTheItemsAreSmall()
    {
        var groups = SizeBounded.Groups(Enumerable.Range(1, 7), _ => 1, maxSize: 1_000, maxCount: 3).ToList();

        groups.ShouldBe([[1, 2, 3], [4, 5, 6], [7]]);
    }

    [Fact(Timeout = 10_000)]
    public void Groups_ClosesAGroupBeforeTheItemThatWouldPassTheSizeBound_AndKeepsTheOrder()
    {
        var groups = SizeBounded.Groups(new[] { 4, 5, 2, 9, 1 }, size => size, maxSize: 10).ToList();

        groups.ShouldBe([[4, 5], [2], [9, 1]]);
    }

    [Fact(Timeout = 10_000)]
    public void Groups_ReturnsNoGroup_WhenThereAreNoItems()
    {
        SizeBounded.Groups(Array.Empty<int>(), size => size, maxSize: 10).ShouldBeEmpty();
    }

    [Fact(Timeout = 10_000)]
    public void ArticleChunks_CutsAtTheRowCountAndAtTheTextBound_WhenRowsAreManyOrLong()
    {
        var now = new DateTime(2026, 12, 6, 0, 0, 0, DateTimeKind.Utc);
        ArticleRow Row(int n, int summaryCharacters) => new(
            new byte[16], $"https://example.com/{n}", "bench", $"Headline {n}", new string('s', summaryCharacters), null, null, null, null, null, now, now);

        var many = UpsertStatements.ArticleChunks([.. Enumerable.Range(0, UpsertStatements.ChunkSize * 2 + 1).Select(n => Row(n, 10))]).ToList();
        // Each row nearly half the bound: two fit a statement, a third would pass it.
        var half = UpsertStatements.MaxStatementCharacters / 2 - 100;
        var longRows = UpsertStatements.ArticleChunks([.. Enumerable.Range(0, 5).Select(n => Row(n, half))]).ToList();

        many.Select(chunk => chunk.Count).ShouldBe([UpsertStatements.ChunkSize, UpsertStatements.ChunkSize, 1]);
        longRows.Select(chunk => chunk.Count).ShouldBe([2, 2, 1]);
    }
}
