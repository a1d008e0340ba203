using Finstage.Storage.Infrastructure;

namespace Finstage.Storage.Reading;

/// <summary>
/// An article as the read API shows it. In list pages <see cref="Summary"/> is cut to its first
/// <see cref="ColumnLimits.SummaryPreview"/> characters (code points) and <see cref="SummaryTruncated"/> says whether
/// it was; GET /api/news/{id} has it whole. <see cref="SummaryLength"/> is the whole summary's length in code points.
/// </summary>
public sealed record ArticleView(
    string Id, string Url, string Title, string? Summary, bool SummaryTruncated, int? SummaryLength, string Source, string? Publisher,
    string? Author, string? ImageUrl, string? ExternalId, DateTime? PublishedAt, DateTime FirstSeenAt, DateTime LastSeenAt,
    IReadOnlyList<string> Symbols);
