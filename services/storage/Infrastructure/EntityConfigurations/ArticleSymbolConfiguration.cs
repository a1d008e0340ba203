using Finstage.Contracts;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Finstage.Storage.Infrastructure.EntityConfigurations;

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
