using System.ComponentModel.DataAnnotations;

namespace Finstage.Storage.Stream;

/// <summary>
/// Bounds of the live stream (<c>GET /api/news/stream</c>) on one storage instance: how many clients it serves,
/// how far a client may fall behind, how much it remembers for clients that reconnect. See
/// docs/decisions/0019-live-news-stream.md.
/// </summary>
public sealed class StreamOptions
{
    public const string SectionName = "Stream";

    /// <summary>Streams this instance holds at once; one more is answered 503 with Retry-After.</summary>
    [Range(1, 100_000)]
    public int MaxConnections { get; set; } = 2000;

    /// <summary>
    /// Articles (and heartbeats) waiting for one client. A client whose socket does not take them fast enough to keep
    /// this many or fewer waiting is sent <c>event: error</c> and disconnected: its memory on the server never grows past it.
    /// </summary>
    [Range(1, 100_000)]
    public int ClientBuffer { get; set; } = 256;

    /// <summary>The newest articles this instance keeps for clients that reconnect with <c>Last-Event-ID</c>.</summary>
    [Range(0, 1_000_000)]
    public int ReplayArticles { get; set; } = 5000;

    /// <summary>How long an article stays in the replay window (at most <see cref="ReplayArticles"/> of them either way).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan ReplayAge { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>How often an idle stream gets a comment line, so proxies and load balancers that cut idle connections keep it.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// How long a write to one client may wait on its socket before the connection is dropped (Kestrel's minimum response
    /// data rate, whose grace period this replaces for streams: a stream is idle by nature, a stall is not); also how long a
    /// client that was cut off has to take its last frames and the reason.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan StallTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The reconnection delay the stream asks EventSource clients to use (<c>retry:</c>).</summary>
    [Range(typeof(TimeSpan), "00:00:00.500", "00:10:00")]
    public TimeSpan ReconnectDelay { get; set; } = TimeSpan.FromSeconds(3);
}
