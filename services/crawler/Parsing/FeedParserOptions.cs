namespace Finstage.Crawler.Parsing;

/// <summary>Limits that keep one hostile or broken document from costing more than it is worth.</summary>
public sealed record FeedParserOptions
{
    /// <summary>Documents larger than this (in bytes, before decoding) are refused as TooLarge.</summary>
    public int MaxBytes { get; init; } = 5 * 1024 * 1024;

    /// <summary>Characters that entities declared in a document's own DTD may add, in total.</summary>
    public int MaxCharactersFromEntities { get; init; } = 64 * 1024;

    /// <summary>A document with an element that has more attributes than this is refused as ParseError.</summary>
    public int MaxAttributesPerElement { get; init; } = 1024;

    /// <summary>Elements nested deeper than this are skipped, so deep nesting cannot exhaust the stack.</summary>
    public int MaxDepth { get; init; } = 64;
}
