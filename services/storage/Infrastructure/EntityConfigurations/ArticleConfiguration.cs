using Finstage.Contracts;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Finstage.Storage.Infrastructure.EntityConfigurations;

internal sealed class ArticleConfiguration : IEntityTypeConfiguration<Article>
{
    public void Configure(EntityTypeBuilder<Article> builder)
    {
        builder.ToTable("articles");
        builder.HasKey(article => article.Id);
        builder.Property(article => article.Id).HasColumnType("binary(16)").ValueGeneratedNever();
        builder.Property(article => article.Url).HasMaxLength(FieldLengths.Url).IsRequired();
        builder.Property(article => article.Source).HasMaxLength(FieldLengths.Source).IsRequired();
        builder.Property(article => article.Title).HasMaxLength(FieldLengths.Title).IsRequired();
        builder.Property(article => article.Summary).HasColumnType("mediumtext");
        builder.Property(article => article.Author).HasMaxLength(FieldLengths.Name);
        builder.Property(article => article.Publisher).HasMaxLength(FieldLengths.Name);
        builder.Property(article => article.ImageUrl).HasMaxLength(FieldLengths.Url);
        builder.Property(article => article.ExternalId).HasMaxLength(FieldLengths.ExternalId);
        // What list pages show of the summary, computed by the database on every write: a page never reads the
        // summary itself, which can be a million characters (GET /api/news/{id} has it whole).
        builder.Property<string?>(ArticleColumns.SummaryPreview).HasMaxLength(ColumnLimits.SummaryPreview)
            .HasComputedColumnSql($"LEFT(`summary`, {ColumnLimits.SummaryPreview})", stored: true);
        builder.Property<int?>(ArticleColumns.SummaryLength).HasComputedColumnSql("CHAR_LENGTH(`summary`)", stored: true);

        // Newest first, overall and per source (GET /api/news without and with ?source=).
        builder.HasIndex(article => new { article.SortAt, article.Id }).HasDatabaseName("ix_articles_sort");
        builder.HasIndex(article => new { article.Source, article.SortAt, article.Id }).HasDatabaseName("ix_articles_source_sort");
    }
}

internal sealed class ArticleSymbolConfiguration : IEntityTypeConfiguration<ArticleSymbol>
{
    public void Configure(EntityTypeBuilder<ArticleSymbol> builder)
    {
        builder.ToTable("article_symbols");
        builder.HasKey(link => new { link.ArticleId, link.Symbol });
        builder.Property(link => link.ArticleId).HasColumnType("binary(16)");
        builder.Property(link => link.Symbol).HasMaxLength(FieldLengths.Symbol);
        builder.HasOne(link => link.Article).WithMany(article => article.Symbols)
            .HasForeignKey(link => link.ArticleId).OnDelete(DeleteBehavior.Cascade);

        // A symbol's news, newest first, from this index alone (GET /api/news?symbol=).
        builder.HasIndex(link => new { link.Symbol, link.SortAt, link.ArticleId }).HasDatabaseName("ix_article_symbols_symbol_sort");
    }
}

internal sealed class CrawlRunConfiguration : IEntityTypeConfiguration<CrawlRun>
{
    public void Configure(EntityTypeBuilder<CrawlRun> builder)
    {
        builder.ToTable("crawl_runs");
        builder.HasKey(run => run.CrawlId);
        builder.Property(run => run.CrawlId).ValueGeneratedNever();
        builder.Property(run => run.Source).HasMaxLength(FieldLengths.Source).IsRequired();
        builder.Property(run => run.Symbol).HasMaxLength(FieldLengths.Symbol).IsRequired();
        builder.Property(run => run.Status).HasConversion<string>().HasMaxLength(ColumnLimits.Status);
        builder.Property(run => run.FailureReason).HasMaxLength(FieldLengths.FailureReason);
        builder.Property(run => run.FailureDetail).HasMaxLength(FieldLengths.Detail);

        // GET /api/crawls newest first, by source, by symbol, by cycle; /api/sources/health per source.
        builder.HasIndex(run => new { run.FinishedAt, run.CrawlId }).HasDatabaseName("ix_crawl_runs_finished");
        builder.HasIndex(run => new { run.Source, run.FinishedAt }).HasDatabaseName("ix_crawl_runs_source_finished");
        builder.HasIndex(run => new { run.Symbol, run.FinishedAt }).HasDatabaseName("ix_crawl_runs_symbol_finished");
        builder.HasIndex(run => run.CycleId).HasDatabaseName("ix_crawl_runs_cycle");
        // A source's last success and last failure in one index step each, however old they are; GET /api/crawls by source and status.
        builder.HasIndex(run => new { run.Source, run.Status, run.FinishedAt }).HasDatabaseName("ix_crawl_runs_source_status_finished");
    }
}

internal sealed class SymbolStatsConfiguration : IEntityTypeConfiguration<SymbolStats>
{
    public void Configure(EntityTypeBuilder<SymbolStats> builder)
    {
        builder.ToTable("symbol_stats");
        builder.HasKey(stats => stats.Symbol);
        builder.Property(stats => stats.Symbol).HasMaxLength(FieldLengths.Symbol);
    }
}

/// <summary>Names of the article columns that exist only in the database (computed from others), not on <see cref="Article"/>.</summary>
internal static class ArticleColumns
{
    public const string SummaryPreview = "SummaryPreview";
    public const string SummaryLength = "SummaryLength";
}
