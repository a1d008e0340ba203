using System.Net;
using System.Text;
using System.Text.Json;

namespace Finstage.Testing;

/// <summary>
/// One frame of a Server-Sent Events stream as a client sees it: an event (with its id, type and data), or a
/// frame of comment lines only (a heartbeat), or both.
/// </summary>
public sealed record SseFrame(string? Id, string? Event, string? Data, IReadOnlyList<string> Comments, string? Retry)
{
    public bool IsEvent => Data is not null;

    public bool IsCommentOnly => Data is null && Comments.Count > 0;

    public JsonElement Json => JsonDocument.Parse(Data ?? "null").RootElement;

    public string Field(string name) => Json.GetProperty(name).ToString();
}

/// <summary>
/// A raw HTTP client of a Server-Sent Events endpoint, as curl would be: it reads the response line by line and
/// parses the frames itself (no EventSource), so a test sees exactly what goes over the wire.
/// </summary>
public sealed class SseConnection : IDisposable
{
    private readonly HttpResponseMessage _response;
    private readonly StreamReader _reader;

    private SseConnection(HttpResponseMessage response, Stream body)
    {
        _response = response;
        Body = body;
        _reader = new StreamReader(body, Encoding.UTF8);
    }

    public HttpResponseMessage Response => _response;

    /// <summary>The raw body, for a test that wants to read nothing for a while (a slow client).</summary>
    public Stream Body { get; }

    /// <summary>A client for many long-lived streams at once: no per-server connection cap, no timeout.</summary>
    public static HttpClient CreateClient(Uri baseAddress) =>
        new(new SocketsHttpHandler { MaxConnectionsPerServer = int.MaxValue, PooledConnectionLifetime = Timeout.InfiniteTimeSpan })
        {
            BaseAddress = baseAddress,
            Timeout = Timeout.InfiniteTimeSpan,
        };

    /// <summary>Opens the stream; throws unless the answer is 200 <c>text/event-stream</c> (use <see cref="TryOpenAsync"/> to see other answers).</summary>
    public static async Task<SseConnection> OpenAsync(HttpClient http, string pathAndQuery, CancellationToken cancellationToken, string? lastEventId = null)
    {
        var (connection, response) = await TryOpenAsync(http, pathAndQuery, cancellationToken, lastEventId);
        if (connection is null)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            response.Dispose();
            throw new InvalidOperationException($"GET {pathAndQuery} answered {(int)response.StatusCode}: {body}");
        }
        return connection;
    }

    /// <summary>Opens the stream; a connection when the answer is a 200 event stream, otherwise null and the response.</summary>
    public static async Task<(SseConnection? Connection, HttpResponseMessage Response)> TryOpenAsync(
        HttpClient http, string pathAndQuery, CancellationToken cancellationToken, string? lastEventId = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, pathAndQuery);
        request.Headers.Accept.ParseAdd("text/event-stream");
        if (lastEventId is not null)
        {
            request.Headers.TryAddWithoutValidation("Last-Event-ID", lastEventId);
        }
        var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (response.StatusCode != HttpStatusCode.OK || response.Content.Headers.ContentType?.MediaType != "text/event-stream")
        {
            return (null, response);
        }
        return (new SseConnection(response, await response.Content.ReadAsStreamAsync(cancellationToken)), response);
    }

    /// <summary>The next frame, or null when the server ended the stream.</summary>
    public async Task<SseFrame?> ReadFrameAsync(CancellationToken cancellationToken)
    {
        string? id = null, type = null, retry = null;
        StringBuilder? data = null;
        var comments = new List<string>();
        while (await _reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.Length == 0)
            {
                if (data is null && comments.Count == 0 && id is null && type is null && retry is null)
                {
                    continue;
                }
                return new SseFrame(id, type, data?.ToString(), comments, retry);
            }
            if (line[0] == ':')
            {
                comments.Add(line[1..].TrimStart());
                continue;
            }
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var field = colon < 0 ? line : line[..colon];
            var value = colon < 0 ? "" : line[(colon + 1)..];
            if (value.StartsWith(' '))
            {
                value = value[1..];
            }
            switch (field)
            {
                case "id": id = value; break;
                case "event": type = value; break;
                case "retry": retry = value; break;
                case "data": data = data is null ? new StringBuilder(value) : data.Append('\n').Append(value); break;
            }
        }
        return null;
    }

    /// <summary>Reads until <paramref name="count"/> events (comments skipped) have come, or fails after <paramref name="timeout"/>.</summary>
    public async Task<IReadOnlyList<SseFrame>> ReadEventsAsync(int count, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        var events = new List<SseFrame>();
        try
        {
            while (events.Count < count)
            {
                var frame = await ReadFrameAsync(deadline.Token) ?? throw new InvalidOperationException(
                    $"The stream ended after {events.Count} of {count} events: {string.Join(" | ", events.Select(e => e.Data))}");
                if (frame.IsEvent)
                {
                    events.Add(frame);
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"Only {events.Count} of {count} events within {timeout.TotalSeconds:0} s: {string.Join(" | ", events.Select(e => e.Data))}");
        }
        return events;
    }

    public void Dispose()
    {
        _reader.Dispose();
        _response.Dispose();
    }
}
