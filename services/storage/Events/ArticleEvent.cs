using Finstage.Contracts;
using Finstage.Storage.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Finstage.Storage.Events;

/// <summary>
/// One <see cref="ArticlesStored"/> event in the outbox (<c>article_events</c>): written in the transaction that
/// stored its articles, published afterwards by <see cref="ArticleEventRelay"/>, kept for
/// <see cref="ArticleEventsOptions.Retention"/> once published.
/// </summary>
public sealed class ArticleEvent
{
    /// <summary>The event's position: assigned under a lock held to the commit, so sequence order is commit order.</summary>
    public long Sequence { get; set; }
    public Guid EventId { get; set; }
    public Guid CrawlId { get; set; }
    public Guid CycleId { get; set; }
    public string Source { get; set; } = "";
    public string Symbol { get; set; } = "";
    public DateTime StoredAt { get; set; }
    /// <summary>The event's <see cref="StoredArticle"/>s as JSON (<see cref="ArticleEventJson"/>).</summary>
    public string Articles { get; set; } = "";
    /// <summary>When the relay had the broker's confirmation; null until then.</summary>
    public DateTime? PublishedAt { get; set; }
}

/// <summary>
/// A named position of the outbox (<c>article_event_cursors</c>): <c>stored</c>, the last sequence assigned, whose
/// row every writer locks to take the next ones; <c>relayed</c>, the last sequence published, whose row the relay
/// locks so that one instance relays at a time.
/// </summary>
public sealed class ArticleEventCursor
{
    public const string Stored = "stored";
    public const string Relayed = "relayed";

    public string Name { get; set; } = "";
    public long Position { get; set; }
}

internal sealed class ArticleEventConfiguration : IEntityTypeConfiguration<ArticleEvent>
{
    public void Configure(EntityTypeBuilder<ArticleEvent> builder)
    {
        builder.ToTable("article_events");
        builder.HasKey(row => row.Sequence);
        builder.Property(row => row.Sequence).ValueGeneratedNever();
        builder.HasIndex(row => row.EventId).IsUnique().HasDatabaseName("ux_article_events_event_id");
        builder.Property(row => row.Source).HasMaxLength(FieldLengths.Source).IsRequired();
        builder.Property(row => row.Symbol).HasMaxLength(FieldLengths.Symbol).IsRequired();
        builder.Property(row => row.Articles).HasColumnType("mediumtext").IsRequired();
        // The relay's "unpublished, in order" (NULLs first in the index), and the pruning by age.
        builder.HasIndex(row => new { row.PublishedAt, row.Sequence }).HasDatabaseName("ix_article_events_published");
        builder.HasIndex(row => row.StoredAt).HasDatabaseName("ix_article_events_stored");
    }
}

internal sealed class ArticleEventCursorConfiguration : IEntityTypeConfiguration<ArticleEventCursor>
{
    public void Configure(EntityTypeBuilder<ArticleEventCursor> builder)
    {
        builder.ToTable("article_event_cursors");
        builder.HasKey(cursor => cursor.Name);
        builder.Property(cursor => cursor.Name).HasMaxLength(ColumnLimits.EventCursorName);
        // The rows are locked, never inserted, at run time: the runtime user need not create them.
        builder.HasData(
            new ArticleEventCursor { Name = ArticleEventCursor.Stored, Position = 0 },
            new ArticleEventCursor { Name = ArticleEventCursor.Relayed, Position = 0 });
    }
}
