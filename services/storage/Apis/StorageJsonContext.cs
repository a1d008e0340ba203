using System.Text.Json;
using System.Text.Json.Serialization;
using Finstage.Storage.Infrastructure;
using Finstage.Storage.Reading;

namespace Finstage.Storage.Apis;

/// <summary>
/// The read API's answers, serialized by generated code rather than reflection: the page of
/// GET /api/news is the service's hottest output. Same shape as before (web defaults, enums by name).
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, UseStringEnumConverter = true)]
[JsonSerializable(typeof(Page<ArticleView>))]
[JsonSerializable(typeof(ArticleView))]
[JsonSerializable(typeof(IReadOnlyList<SymbolView>))]
[JsonSerializable(typeof(Page<CrawlRun>))]
[JsonSerializable(typeof(IReadOnlyList<SourceHealthView>))]
internal sealed partial class StorageJsonContext : JsonSerializerContext;
