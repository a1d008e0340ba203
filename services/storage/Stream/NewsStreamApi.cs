using System.Buffers;
using Finstage.Contracts;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Finstage.Storage.Stream;

/// <summary><c>GET /api/news/stream</c>: new articles as Server-Sent Events.</summary>
public static class NewsStreamApi
{
    private const int MaxFilterValues = 100;

    public static IEndpointRouteBuilder MapStreamEndpoint(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/news/stream", StreamNewsAsync)
            .WithTags("News")
            .WithSummary("Stream new articles")
            .WithDescription(
                "New articles as Server-Sent Events (text/event-stream), as storage stores them: one `event: article` per article, its " +
                "`data:` the article as JSON (id, url, title, symbol, source, publisher, publishedAt, storedAt, position), its `id:` a position " +
                "to resume from. Filter with `symbol` and `source`, each repeatable (any of them; none: all). A client that reconnects " +
                "with the `Last-Event-ID` header (or `lastEventId`) gets what it missed as far as the instance's replay window goes (by " +
                "default its last 5,000 articles, at most 15 minutes old); beyond it, an `event: gap` says so and GET /api/news has the rest. " +
                "A comment line every 15 s keeps idle connections open. A client that falls 256 articles behind gets `event: error` " +
                "(reason `slow-client`) and is disconnected. Beyond the instance's connection limit the answer is 503 with Retry-After.")
            .Produces(StatusCodes.Status200OK, contentType: "text/event-stream")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return app;
    }

    public static async Task<IResult> StreamNewsAsync(
        HttpContext http,
        NewsBroadcast stream,
        IOptions<StreamOptions> options,
        [FromQuery(Name = "symbol")] string[]? symbol,
        [FromQuery(Name = "source")] string[]? source,
        [FromQuery(Name = "lastEventId")] string? lastEventId,
        [FromHeader(Name = "Last-Event-ID")] string? lastEventIdHeader)
    {
        var errors = new Dictionary<string, string[]>();
        var symbols = Values(nameof(symbol), symbol, FieldLengths.Symbol, errors);
        var sources = Values(nameof(source), source, FieldLengths.Source, errors);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        // The header is what a browser's EventSource sends when it reconnects; the parameter is for clients that cannot set headers.
        var lastSeen = lastEventIdHeader is { Length: > 0 } ? lastEventIdHeader : lastEventId is { Length: > 0 } ? lastEventId : null;
        using var subscription = stream.Subscribe(new StreamFilter(symbols, sources), lastSeen);
        if (subscription is null)
        {
            http.Response.Headers.RetryAfter = "5";
            return TypedResults.Problem(
                "This instance serves as many news streams as it may; try again shortly.",
                statusCode: StatusCodes.Status503ServiceUnavailable, title: "Too many streams");
        }

        await WriteStreamAsync(http, subscription, options.Value);
        return TypedResults.Empty;
    }

    private static async Task WriteStreamAsync(HttpContext http, StreamSubscription subscription, StreamOptions options)
    {
        var response = http.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache,no-store";
        response.Headers.Pragma = "no-cache";
        // Never compressed (a compressor would hold frames back) nor buffered by a proxy such as nginx.
        response.Headers.ContentEncoding = "identity";
        response.Headers["X-Accel-Buffering"] = "no";
        http.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        // Kestrel drops a response whose pending write moves slower than 240 bytes/s after a 5 s grace; for a stream the grace
        // is StallTimeout, so that a client cut off for being slow has that long to read why.
        if (http.Features.Get<IHttpMinResponseDataRateFeature>() is { } rate)
        {
            rate.MinDataRate = new MinDataRate(bytesPerSecond: 240, gracePeriod: options.StallTimeout);
        }

        var body = response.BodyWriter;
        using var writing = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, subscription.CutOffToken);
        try
        {
            await body.WriteAsync(StreamFrames.Opening(options.ReconnectDelay), writing.Token);
            if (subscription.Gap is { } gap)
            {
                await body.WriteAsync(StreamFrames.Notice("gap", gap), writing.Token);
            }
            foreach (var missed in subscription.Replay)
            {
                // WriteAsync flushes when the pipe holds enough; a slow client holds this loop up, not the server's memory.
                await body.WriteAsync(missed.Frame, writing.Token);
            }
            await body.FlushAsync(writing.Token);
            var reader = subscription.Reader;
            while (await reader.WaitToReadAsync(writing.Token))
            {
                while (reader.TryRead(out var entry))
                {
                    body.Write(entry.Frame.Span);
                }
                await body.FlushAsync(writing.Token);
            }
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            // The client went away.
            return;
        }
        catch (OperationCanceledException) when (subscription.Overflowed)
        {
            // Cut off, and its socket took nothing for the whole farewell time: a client that reads nothing must not hold
            // the server's buffers for it.
            http.Abort();
            return;
        }

        if (subscription.Overflowed)
        {
            // The buffer is drained: what it held went out, now the reason, then the end of the stream.
            try
            {
                await body.WriteAsync(
                    StreamFrames.Notice("error", new StreamNotice("slow-client",
                        $"This client fell {options.ClientBuffer} articles behind the stream and was disconnected; reconnect with Last-Event-ID to resume.")),
                    writing.Token);
            }
            catch (OperationCanceledException)
            {
                http.Abort();
            }
        }
    }

    private static string[] Values(string name, string[]? values, int maxLength, Dictionary<string, string[]> errors)
    {
        var given = (values ?? []).Where(value => !string.IsNullOrWhiteSpace(value)).Select(value => value.Trim()).Distinct(StringComparer.OrdinalIgnoreCase).ToArray();
        if (given.Length > MaxFilterValues)
        {
            errors[name] = [$"At most {MaxFilterValues} values of '{name}'."];
        }
        else if (given.Any(value => value.Length > maxLength || value.Any(char.IsControl)))
        {
            errors[name] = [$"Each '{name}' is 1 to {maxLength} characters, none of them a control character."];
        }
        return given;
    }
}
