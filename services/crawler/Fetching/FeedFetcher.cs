using System.Net;
using System.Net.Http.Headers;
using Finstage.Contracts;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using Polly.CircuitBreaker;
using Polly.RateLimiting;
using Polly.Timeout;

namespace Finstage.Crawler.Fetching;

/// <summary>
/// Fetches one feed URL politely and safely: conditional GET, a total time budget that covers
/// the body too, a size cap counted after decompression, and every failure named. Retries,
/// back-off, Retry-After, the per-host circuit breaker and rate limit live in the HttpClient's
/// resilience pipeline (see <see cref="Extensions"/>); which addresses may be connected to, in
/// <see cref="GuardedConnector"/>. The validators of a full answer come back in the outcome, to be
/// remembered only once what was made of it has been published.
/// </summary>
public sealed class FeedFetcher(HttpClient http, ValidatorCache validators, IOptions<FetchOptions> options, TimeProvider clock)
{
    /// <summary>Fetches <paramref name="url"/>, conditionally when its validators are remembered.</summary>
    public Task<FetchOutcome> FetchAsync(Uri url, CancellationToken cancellationToken) => FetchAsync(url, conditional: true, cancellationToken);

    /// <summary>
    /// Fetches <paramref name="url"/>; with <paramref name="conditional"/> false, in full whatever
    /// validators are remembered.
    /// </summary>
    public async Task<FetchOutcome> FetchAsync(Uri url, bool conditional, CancellationToken cancellationToken)
    {
        var fetch = options.Value;
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        budget.CancelAfter(fetch.TotalTimeout);
        var attempts = new AttemptCountingHandler.StrongBox();
        int? status = null;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            request.Options.Set(AttemptCountingHandler.Key, attempts);
            var known = conditional ? validators.Get(url) : null;
            AddValidators(request, known);

            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, budget.Token);
            status = (int)response.StatusCode;
            var receivedAt = clock.GetUtcNow();
            if (response.StatusCode == HttpStatusCode.NotModified)
            {
                // A 304's headers refresh the copy it stands for; that copy's <ttl> still holds.
                return new FetchOutcome(status, attempts.Value, NotModified: true,
                    RefreshAfter: FreshnessHints.Max(FreshnessHints.FreshFor(response, receivedAt), known?.TimeToLive));
            }
            if (!response.IsSuccessStatusCode)
            {
                return Failure(response, attempts.Value) with { RetryAfter = FreshnessHints.RetryAfter(response, receivedAt) };
            }
            if (response.Content.Headers.ContentLength > fetch.MaxResponseBytes)
            {
                return new FetchOutcome(status, attempts.Value, Failure: CrawlFailureReason.TooLarge,
                    Detail: $"The server announced {response.Content.Headers.ContentLength} bytes; at most {fetch.MaxResponseBytes} are accepted.");
            }
            var body = await ReadCappedAsync(response.Content, fetch.MaxResponseBytes, budget.Token);
            if (body is null)
            {
                return new FetchOutcome(status, attempts.Value, Failure: CrawlFailureReason.TooLarge,
                    Detail: $"The body exceeded {fetch.MaxResponseBytes} bytes after decompression.");
            }
            return new FetchOutcome(status, attempts.Value, body, response.Content.Headers.ContentType?.ToString(),
                Validators: new FeedValidators(response.Headers.ETag?.ToString(), response.Content.Headers.LastModified),
                RefreshAfter: FreshnessHints.FreshFor(response, receivedAt));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new FetchOutcome(status, attempts.Value, Failure: CrawlFailureReason.Timeout,
                Detail: $"No complete answer within {fetch.TotalTimeout.TotalSeconds:0.#} s.");
        }
        catch (TimeoutRejectedException)
        {
            return new FetchOutcome(status, attempts.Value, Failure: CrawlFailureReason.Timeout,
                Detail: $"Every attempt ran out of time ({fetch.AttemptTimeout.TotalSeconds:0.#} s each).");
        }
        catch (BrokenCircuitException exception)
        {
            return new FetchOutcome(status, attempts.Value, Failure: CrawlFailureReason.HttpError,
                Detail: $"{url.Host} failed too often; its circuit is open ({exception.Message}).");
        }
        catch (RateLimiterRejectedException)
        {
            return new FetchOutcome(status, attempts.Value, Failure: CrawlFailureReason.RateLimited,
                Detail: $"Too many requests are waiting for {url.Host}'s rate limit.");
        }
        catch (HttpRequestException exception) when (BlockedAddressException.IsIn(exception))
        {
            // Never the target itself: the feed chose it, and what it learns must not depend on it.
            var where = exception.InnerException is BlockedAddressException blocked
                && string.Equals(blocked.Host.Trim('[', ']'), url.IdnHost.Trim('[', ']'), StringComparison.OrdinalIgnoreCase) && blocked.Port == url.Port
                ? "The feed's host"
                : "A redirect's target";
            return new FetchOutcome(status, attempts.Value, Failure: CrawlFailureReason.BlockedAddress,
                Detail: $"{where} resolves to a loopback, private, link-local, multicast or unspecified address; no connection was made " +
                    "(only a configured source's own host and port, or Fetch:AllowPrivateNetworks, allow one).");
        }
        catch (HttpRequestException exception)
        {
            return new FetchOutcome(status, attempts.Value, Failure: CrawlFailureReason.HttpError,
                Detail: $"{exception.HttpRequestError}: {exception.Message}");
        }
    }

    private static void AddValidators(HttpRequestMessage request, FeedValidators? known)
    {
        if (known?.ETag is { } etag && EntityTagHeaderValue.TryParse(etag, out var parsed))
        {
            request.Headers.IfNoneMatch.Add(parsed);
        }
        if (known?.LastModified is { } lastModified)
        {
            request.Headers.IfModifiedSince = lastModified;
        }
    }

    private static FetchOutcome Failure(HttpResponseMessage response, int attempts)
    {
        var status = (int)response.StatusCode;
        // The status's standard phrase, not the server's: that is whatever text the server chose.
        var detail = $"HTTP {status} {ReasonPhrases.GetReasonPhrase(status)}".TrimEnd();
        if (response.Headers.RetryAfter is { } retryAfter)
        {
            detail += $" (Retry-After: {retryAfter})";
        }
        if (response.Headers.Location is { } location)
        {
            // Described, not echoed: a Location is the server's text, and may carry credentials or a key.
            var target = location.IsAbsoluteUri ? $"a {location.Scheme} URL" : "a relative URL";
            detail += $" (a redirect to {target} that is not followed: only http(s), never https to http, at most {SafeRedirectHandler.MaxRedirects} hops)";
        }
        var reason = response.StatusCode == HttpStatusCode.TooManyRequests ? CrawlFailureReason.RateLimited : CrawlFailureReason.HttpError;
        return new FetchOutcome(status, attempts, Failure: reason, Detail: detail);
    }

    // Reads at most cap bytes of the decompressed body; null when there is more.
    private static async Task<byte[]?> ReadCappedAsync(HttpContent content, int cap, CancellationToken cancellationToken)
    {
        await using var stream = await content.ReadAsStreamAsync(cancellationToken);
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        while (true)
        {
            var read = await stream.ReadAsync(chunk, cancellationToken);
            if (read == 0)
            {
                return buffer.ToArray();
            }
            if (buffer.Length + read > cap)
            {
                return null;
            }
            buffer.Write(chunk, 0, read);
        }
    }
}
