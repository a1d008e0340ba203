using System.Text.Json;
using System.Text.Json.Serialization;

namespace Finstage.Storage.Stream;

/// <summary>One article as the stream sends it (the <c>data:</c> of an <c>event: article</c>).</summary>
/// <param name="Id">The article's id in the news API (<c>/api/news/{id}</c>).</param>
/// <param name="Position">The same as the frame's <c>id:</c>, for clients that do not read SSE ids.</param>
public sealed record StreamedArticle(
    string Id,
    string Url,
    string Title,
    string Symbol,
    string Source,
    string? Publisher,
    DateTimeOffset? PublishedAt,
    DateTimeOffset StoredAt,
    string Position);

/// <summary>Why the stream ends or skips (the <c>data:</c> of <c>event: error</c> and <c>event: gap</c>).</summary>
public sealed record StreamNotice(string Reason, string Detail);

/// <summary>The stream's frames serialized by generated code, once per article for every client.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(StreamedArticle))]
[JsonSerializable(typeof(StreamNotice))]
internal sealed partial class StreamJsonContext : JsonSerializerContext;
