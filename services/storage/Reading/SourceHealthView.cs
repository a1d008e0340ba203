namespace Finstage.Storage.Reading;

/// <summary>One source's health as GET /api/sources/health shows it.</summary>
public sealed record SourceHealthView(
    string Source, int RecentRuns, double SuccessRate, DateTime? LastSuccessAt, DateTime? LastFailureAt,
    string? LastFailureReason, string? LastFailureDetail);
