using Finstage.Contracts;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Finstage.Storage.Infrastructure.EntityConfigurations;

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
