namespace Finstage.Storage.Writing;

/// <summary>One article↔symbol link as the upsert writes it.</summary>
internal sealed record LinkRow(byte[] ArticleId, string Symbol, DateTime SortAt, DateTime FirstSeenAt);
