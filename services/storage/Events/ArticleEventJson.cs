using System.Text.Json;
using System.Text.Json.Serialization;
using Finstage.Contracts;

namespace Finstage.Storage.Events;

/// <summary>How an event's articles are kept in <c>article_events.articles</c>: the contract's JSON, camelCase.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(StoredArticle[]))]
internal sealed partial class ArticleEventJson : JsonSerializerContext
{
    public static string Write(StoredArticle[] articles) => JsonSerializer.Serialize(articles, Default.StoredArticleArray);

    public static StoredArticle[] Read(string json) =>
        JsonSerializer.Deserialize(json, Default.StoredArticleArray) ?? throw new JsonException("An outbox row holds no articles.");
}
