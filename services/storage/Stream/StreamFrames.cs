using System.Buffers;
using System.Text;
using System.Text.Json;

namespace Finstage.Storage.Stream;

/// <summary>
/// Server-Sent Events frames as UTF-8 bytes. Written here rather than by TypedResults.ServerSentEvents because that
/// formatter cannot write comment lines, which are the heartbeats this stream sends (docs/decisions/0019-live-news-stream.md).
/// JSON written by System.Text.Json escapes line breaks, so one <c>data:</c> line always holds the whole payload.
/// </summary>
internal static class StreamFrames
{
    /// <summary>A comment line: every SSE client skips it, every proxy sees traffic.</summary>
    public static readonly ReadOnlyMemory<byte> Heartbeat = ":\n\n"u8.ToArray();

    public static byte[] Article(StreamedArticle article) =>
        Frame(article.Position, "article", writer => JsonSerializer.Serialize(writer, article, StreamJsonContext.Default.StreamedArticle));

    public static byte[] Notice(string eventType, StreamNotice notice) =>
        Frame(null, eventType, writer => JsonSerializer.Serialize(writer, notice, StreamJsonContext.Default.StreamNotice));

    /// <summary>The opening frame: the reconnection delay, and a comment so the client sees the stream start at once.</summary>
    public static byte[] Opening(TimeSpan reconnectDelay) =>
        Encoding.UTF8.GetBytes(FormattableString.Invariant($"retry: {(long)reconnectDelay.TotalMilliseconds}\n: news stream\n\n"));

    private static byte[] Frame(string? id, string eventType, Action<Utf8JsonWriter> writeData)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        if (id is not null)
        {
            Append(buffer, "id: ");
            Append(buffer, id);
            Append(buffer, "\n");
        }
        Append(buffer, "event: ");
        Append(buffer, eventType);
        Append(buffer, "\ndata: ");
        using (var json = new Utf8JsonWriter(buffer))
        {
            writeData(json);
        }
        Append(buffer, "\n\n");
        return buffer.WrittenSpan.ToArray();
    }

    private static void Append(ArrayBufferWriter<byte> buffer, string text)
    {
        var written = Encoding.UTF8.GetBytes(text, buffer.GetSpan(Encoding.UTF8.GetMaxByteCount(text.Length)));
        buffer.Advance(written);
    }
}
