namespace Finstage.Storage.Stream;

/// <summary>
/// One article in the stream: its frame serialized once and shared by every client that wants it, and what the
/// filters and the replay window need to know about it.
/// </summary>
internal sealed record StreamEntry(StreamPosition Position, string Symbol, string Source, DateTimeOffset ReceivedAt, ReadOnlyMemory<byte> Frame)
{
    /// <summary>Not an article: the periodic comment line, queued like one so a single timer serves every client.</summary>
    public static readonly StreamEntry Heartbeat = new(default, "", "", default, StreamFrames.Heartbeat);
}
