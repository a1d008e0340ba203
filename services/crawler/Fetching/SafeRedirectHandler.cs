using System.Net;

namespace Finstage.Crawler.Fetching;

/// <summary>
/// Follows redirects only to http(s), never from https down to http, and at most five times.
/// Written by hand because SocketsHttpHandler's own redirects, shown a <c>file:</c> Location,
/// throw a UriFormatException from deep inside the connection pool instead of stopping.
/// </summary>
internal sealed class SafeRedirectHandler : DelegatingHandler
{
    public const int MaxRedirects = 5;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken);
        for (var hops = 0; hops < MaxRedirects && NextLocation(request.RequestUri!, response) is { } next; hops++)
        {
            response.Dispose();
            request.RequestUri = next;
            response = await base.SendAsync(request, cancellationToken);
        }
        return response;
    }

    /// <summary>Where a redirect may be followed to, or null when it is not a redirect or leads somewhere it must not.</summary>
    public static Uri? NextLocation(Uri current, HttpResponseMessage response)
    {
        if (response.StatusCode is not (HttpStatusCode.MovedPermanently or HttpStatusCode.Found or HttpStatusCode.SeeOther
            or HttpStatusCode.TemporaryRedirect or HttpStatusCode.PermanentRedirect)
            || response.Headers.Location is not { } location)
        {
            return null;
        }
        var target = location.IsAbsoluteUri ? location : new Uri(current, location);
        var allowed = target.Scheme == Uri.UriSchemeHttps || (target.Scheme == Uri.UriSchemeHttp && current.Scheme == Uri.UriSchemeHttp);
        return allowed ? target : null;
    }
}
