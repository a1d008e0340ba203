namespace Finstage.Storage.Reading;

/// <summary>One page of a newest-first list and the cursor of the next one (null on the last page).</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, string? NextCursor);
