namespace Finstage.Crawler.Tests.Evaluation;

/// <summary>What any parser under evaluation produced for one document, in the terms the Expect clauses use.</summary>
/// <param name="Bozo">The parser found the document broken: it refused it, threw, or had to repair it.</param>
/// <param name="Exception">The exception the parser threw, if it threw.</param>
/// <param name="Published">How many entries the crawler would publish as articles; null for a library, which has no such notion.</param>
internal sealed record FeedView(
    bool Bozo,
    string? Version,
    string? Title,
    string? Link,
    IReadOnlyList<EntryView> Entries,
    Exception? Exception = null,
    bool TextIsPlain = false,
    int? Published = null)
{
    public static FeedView Threw(Exception ex) => new(true, null, null, null, [], ex);
}

/// <summary>One entry as any parser under evaluation produced it.</summary>
internal sealed record EntryView(
    string? Title,
    string? Link,
    string? Summary,
    DateTimeOffset? Published,
    string? Author,
    string? Id);
