namespace Finstage.Crawler.Fetching;

/// <summary>
/// Counts the requests actually sent for one fetch. It sits inside the resilience handler, so
/// every retry passes through it, and keeps the count in the request's options.
/// </summary>
internal sealed class AttemptCountingHandler : DelegatingHandler
{
    public static readonly HttpRequestOptionsKey<StrongBox> Key = new("finstage.attempts");

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.Options.TryGetValue(Key, out var attempts))
        {
            Interlocked.Increment(ref attempts.Value);
        }
        return base.SendAsync(request, cancellationToken);
    }

    /// <summary>A mutable count carried along with the request.</summary>
    public sealed class StrongBox
    {
        public int Value;
    }
}
