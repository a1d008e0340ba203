using Finstage.Contracts;
using Finstage.Storage.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;

namespace Finstage.Storage.Tests;

/// <summary>
/// The schema's column lengths are the contract's (issue 13): the crawler cuts what it publishes to
/// <see cref="FieldLengths"/> and the scheduler refuses longer symbols, both trusting that storage keeps
/// exactly that much. Read from the EF model, without a server.
/// </summary>
[Trait("Category", "Reliability")]
public sealed class SchemaLengthsTests
{
    // Every text column with a length, and where that length lives.
    private static readonly Dictionary<(string Table, string Property), int> Expected = new()
    {
        [("articles", nameof(Article.Url))] = FieldLengths.Url,
        [("articles", nameof(Article.Source))] = FieldLengths.Source,
        [("articles", nameof(Article.Title))] = FieldLengths.Title,
        [("articles", nameof(Article.Author))] = FieldLengths.Name,
        [("articles", nameof(Article.Publisher))] = FieldLengths.Name,
        [("articles", nameof(Article.ImageUrl))] = FieldLengths.Url,
        [("articles", nameof(Article.ExternalId))] = FieldLengths.ExternalId,
        [("articles", "SummaryPreview")] = ColumnLimits.SummaryPreview,
        [("article_symbols", nameof(ArticleSymbol.Symbol))] = FieldLengths.Symbol,
        [("symbol_stats", nameof(SymbolStats.Symbol))] = FieldLengths.Symbol,
        [("crawl_runs", nameof(CrawlRun.Source))] = FieldLengths.Source,
        [("crawl_runs", nameof(CrawlRun.Symbol))] = FieldLengths.Symbol,
        [("crawl_runs", nameof(CrawlRun.Status))] = ColumnLimits.Status,
        [("crawl_runs", nameof(CrawlRun.FailureReason))] = FieldLengths.FailureReason,
        [("crawl_runs", nameof(CrawlRun.FailureDetail))] = FieldLengths.Detail,
        [("article_events", nameof(Events.ArticleEvent.Source))] = FieldLengths.Source,
        [("article_events", nameof(Events.ArticleEvent.Symbol))] = FieldLengths.Symbol,
        [("article_event_cursors", nameof(Events.ArticleEventCursor.Name))] = ColumnLimits.EventCursorName,
    };

    [Fact]
    public void Model_GivesEveryTextColumnTheContractsLength_WhenBuiltFromTheEntityConfigurations()
    {
        using var context = DesignTimeContext();
        var model = context.GetService<IDesignTimeModel>().Model;

        var actual = model.GetEntityTypes()
            .SelectMany(entity => entity.GetProperties().Select(property => (entity, property)))
            .Where(pair => pair.property.GetMaxLength() is not null)
            .ToDictionary(pair => (pair.entity.GetTableName()!, pair.property.Name), pair => pair.property.GetMaxLength()!.Value);

        actual.OrderBy(pair => pair.Key.ToString(), StringComparer.Ordinal)
            .ShouldBe(Expected.OrderBy(pair => pair.Key.ToString(), StringComparer.Ordinal));
    }

    [Fact]
    public void Model_MatchesTheLastMigration_WhenTheLengthsComeFromTheContract()
    {
        using var context = DesignTimeContext();

        // Any length that moved would need a migration: the snapshot is the schema the databases have.
        context.Database.HasPendingModelChanges().ShouldBeFalse();
    }

    private static NewsDbContext DesignTimeContext() =>
        new DesignTimeNewsDbContextFactory().CreateDbContext([]);
}
