using Finstage.Contracts;
using Finstage.Storage.Infrastructure;

namespace Finstage.Storage.Writing;

/// <summary>One article as the upsert writes it, already cut to the columns' lengths.</summary>
internal sealed record ArticleRow(
    byte[] Id,
    string Url,
    string Source,
    string Title,
    string? Summary,
    string? Author,
    string? Publisher,
    string? ImageUrl,
    string? ExternalId,
    DateTime? PublishedAt,
    DateTime SortAt,
    DateTime SeenAt)
{
    /// <summary>The crawler made <see cref="Title"/> (the feed gave none): carried by events, not stored.</summary>
    public bool TitleDerived { get; init; }

    /// <summary>How far after its first sighting a publication date is still trusted to order an article.</summary>
    public static readonly TimeSpan TrustedLead = TimeSpan.FromDays(1);

    public static ArticleRow From(NewsArticle article, string source, DateTime now)
    {
        var url = article.Url.Trim();
        var publishedAt = article.PublishedAt?.UtcDateTime;
        // A date further ahead is a feed's mistake or a bid for the top of every page: the article
        // keeps it as published_at but sorts by its first sighting (now, if this row inserts it).
        var sortAt = publishedAt is { } date && date <= now + TrustedLead ? date : now;
        return new ArticleRow(
            ArticleId.FromUrl(url),
            FieldLengths.Fit(url, FieldLengths.Url)!,
            FieldLengths.Fit(source, FieldLengths.Source)!,
            FieldLengths.Fit(article.Title.Trim(), FieldLengths.Title)!,
            FieldLengths.Fit(article.Summary, FieldLengths.Summary),
            FieldLengths.Fit(article.Author, FieldLengths.Name),
            FieldLengths.Fit(article.Publisher, FieldLengths.Name),
            FieldLengths.Fit(article.ImageUrl, FieldLengths.Url),
            FieldLengths.Fit(article.ExternalId, FieldLengths.ExternalId),
            publishedAt,
            sortAt,
            now)
        {
            TitleDerived = article.TitleDerived,
        };
    }

    /// <summary>The article as an <see cref="ArticlesStored"/> event carries it.</summary>
    public StoredArticle AsStored() => new(
        ArticleId.ToHex(Id),
        Url,
        Title,
        PublishedAt is { } published ? new DateTimeOffset(published, TimeSpan.Zero) : null,
        Publisher,
        TitleDerived);

    public ArticleRow FilledFrom(ArticleRow other) => this with
    {
        Summary = Summary ?? other.Summary,
        Author = Author ?? other.Author,
        Publisher = Publisher ?? other.Publisher,
        ImageUrl = ImageUrl ?? other.ImageUrl,
        ExternalId = ExternalId ?? other.ExternalId,
        PublishedAt = PublishedAt ?? other.PublishedAt,
    };
}
