namespace Finstage.Contracts;

/// <summary>
/// The most characters (UTF-16 code units) each text of the messages is kept with: the lengths of
/// storage's columns, the lengths the crawler cuts what it publishes to, and the longest symbol the
/// scheduler accepts. The one home of these numbers; storage's schema is built from them.
/// </summary>
/// <remarks>
/// Changing one changes the database schema: it needs a storage migration.
/// </remarks>
public static class FieldLengths
{
    /// <summary>An article's URL or image URL. The crawler drops an image URL that is longer (a cut URL is a wrong one);
    /// an article URL is never cut before storage, which keys the article by the whole of it (<see cref="NewsArticle.Url"/>).</summary>
    public const int Url = 2048;

    /// <summary>A source's name.</summary>
    public const int Source = 32;

    /// <summary>A symbol (ticker).</summary>
    public const int Symbol = 128;

    /// <summary>An article's title.</summary>
    public const int Title = 1000;

    /// <summary>An author's or publisher's name.</summary>
    public const int Name = 256;

    /// <summary>A feed's own id of an article (an Atom id or RSS guid).</summary>
    public const int ExternalId = 512;

    /// <summary>A failed crawl's <see cref="CrawlFailed.Detail"/>.</summary>
    public const int Detail = 2000;

    /// <summary>The name of a <see cref="CrawlFailureReason"/>, which storage keeps by name.</summary>
    public const int FailureReason = 32;

    /// <summary>An article's summary (storage's mediumtext column holds 16 MB): at most 4 MB of UTF-8, so one row always fits max_allowed_packet.</summary>
    public const int Summary = 1_000_000;

    /// <summary>Cuts <paramref name="value"/> to <paramref name="length"/>, so one overlong field cannot poison a whole batch.</summary>
    public static string? Fit(string? value, int length)
    {
        if (value is null || value.Length <= length)
        {
            return value;
        }
        // Never split a surrogate pair: half an emoji is not valid text.
        return char.IsHighSurrogate(value[length - 1]) ? value[..(length - 1)] : value[..length];
    }
}
