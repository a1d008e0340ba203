using System.Security.Cryptography;
using Microsoft.Net.Http.Headers;

namespace Finstage.Storage.Stream;

/// <summary>
/// The news page at <c>/</c>: plain HTML, CSS and script embedded in the service's assembly (no build step, no CDN, nothing
/// read from disk, so it works wherever the dll runs), served with a policy that lets it load only from this service.
/// </summary>
public static class NewsPage
{
    // Everything from this origin only: the page's own files, its API calls and its stream; no inline script or style.
    private const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    private static readonly (string Path, string Resource, string ContentType)[] Files =
    [
        ("/", "index.html", "text/html; charset=utf-8"),
        ("/news.css", "news.css", "text/css; charset=utf-8"),
        ("/news.js", "news.js", "text/javascript; charset=utf-8"),
    ];

    public static IEndpointRouteBuilder MapNewsPage(this IEndpointRouteBuilder app)
    {
        foreach (var (path, resource, contentType) in Files)
        {
            var content = Read(resource);
            var etag = new EntityTagHeaderValue("\"" + Convert.ToHexStringLower(SHA256.HashData(content))[..16] + "\"");
            app.MapGet(path, (HttpContext http) =>
            {
                var headers = http.Response.Headers;
                headers.ContentSecurityPolicy = ContentSecurityPolicy;
                headers.XContentTypeOptions = "nosniff";
                headers["Referrer-Policy"] = "no-referrer";
                // Asked again each time (a new build changes the files), answered 304 while unchanged.
                headers.CacheControl = "no-cache";
                headers.ETag = etag.ToString();
                if (http.Request.Headers.IfNoneMatch.ToString() == etag.ToString())
                {
                    return Results.StatusCode(StatusCodes.Status304NotModified);
                }
                return Results.Bytes(content, contentType);
            }).ExcludeFromDescription();
        }
        return app;
    }

    private static byte[] Read(string name)
    {
        var assembly = typeof(NewsPage).Assembly;
        using var stream = assembly.GetManifestResourceStream("Finstage.Storage.Stream.Page." + name)
            ?? throw new InvalidOperationException($"The news page's {name} is not embedded in {assembly.GetName().Name}.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
