namespace Finstage.Storage.Infrastructure.EntityConfigurations;

/// <summary>Names of the article columns that exist only in the database (computed from others), not on <see cref="Article"/>.</summary>
internal static class ArticleColumns
{
    public const string SummaryPreview = "SummaryPreview";
    public const string SummaryLength = "SummaryLength";
}
