using Finstage.Contracts;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Finstage.Storage.Infrastructure.EntityConfigurations;

internal sealed class SymbolStatsConfiguration : IEntityTypeConfiguration<SymbolStats>
{
    public void Configure(EntityTypeBuilder<SymbolStats> builder)
    {
        builder.ToTable("symbol_stats");
        builder.HasKey(stats => stats.Symbol);
        builder.Property(stats => stats.Symbol).HasMaxLength(FieldLengths.Symbol);
    }
}
