using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Finstage.Storage.Events;

/// <summary>
/// HTTP validation for clients that poll the news: a 200 answer carries a strong <c>ETag</c>, the SHA-256 of its own JSON
/// body (first 16 bytes, base64url), and a request whose <c>If-None-Match</c> names it (or <c>*</c>) gets
/// <c>304 Not Modified</c> with no body. The tag is the body's, so it changes exactly when what the client would see
/// changes (a new article, an updated title, a new symbol, a later <c>lastSeenAt</c>), whichever instance wrote it, and
/// the same answer from any instance has the same tag. The query still runs: what a 304 saves is the body on the wire
/// and the client's parsing of it (decisions/0018 says why no cheaper marker is sound here).
/// </summary>
public static class EntityTags
{
    /// <summary>Answers a successful value with an <c>ETag</c>, or with 304 when the client already has it; passes anything else through.</summary>
    public static async ValueTask<object?> ValidateAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var result = await next(context);
        // A handler's Results<Ok<T>, …> holds the answer it chose.
        var chosen = result is INestedHttpResult nested ? nested.Result : result;
        if (chosen is not (IStatusCodeHttpResult { StatusCode: StatusCodes.Status200OK } and IValueHttpResult { Value: { } value }))
        {
            return result;
        }
        var http = context.HttpContext;
        var json = http.RequestServices.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
        var body = JsonSerializer.SerializeToUtf8Bytes(value, value.GetType(), json);
        var tag = new EntityTagHeaderValue("\"" + Base64Url(SHA256.HashData(body).AsSpan(0, 16)) + "\"");

        var headers = http.Response.GetTypedHeaders();
        headers.ETag = tag;
        // Stored copies must be checked with the server before use: the news changes with every cycle.
        headers.CacheControl = new CacheControlHeaderValue { NoCache = true };
        return Matches(http.Request.GetTypedHeaders().IfNoneMatch, tag)
            ? TypedResults.StatusCode(StatusCodes.Status304NotModified)
            : TypedResults.Bytes(body, "application/json; charset=utf-8");
    }

    // RFC 9110 §13.1.2: If-None-Match compares weakly, and "*" matches any current representation.
    private static bool Matches(IList<EntityTagHeaderValue> ifNoneMatch, EntityTagHeaderValue tag) =>
        ifNoneMatch.Any(candidate => candidate.Equals(EntityTagHeaderValue.Any) || candidate.Compare(tag, useStrongComparison: false));

    private static string Base64Url(ReadOnlySpan<byte> bytes) => Microsoft.AspNetCore.WebUtilities.WebEncoders.Base64UrlEncode(bytes.ToArray());
}
