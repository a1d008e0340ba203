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
