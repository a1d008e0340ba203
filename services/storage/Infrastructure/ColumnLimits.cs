namespace Finstage.Storage.Infrastructure;

/// <summary>Column lengths, shared by the schema and the writer that trims values to fit them.</summary>
internal static class ColumnLimits
{
    public const int Url = 2048;
    public const int Source = 32;
    public const int Symbol = 128;
    public const int Title = 1000;
    public const int Name = 256;
    public const int ExternalId = 512;
    public const int Detail = 2000;

    /// <summary>Characters of a summary (a mediumtext column holds 16 MB): at most 4 MB of UTF-8, so one row always fits max_allowed_packet.</summary>
    public const int Summary = 1_000_000;

    /// <summary>Characters (code points) of a summary that list pages show; <c>articles.summary_preview</c> holds them.</summary>
    public const int SummaryPreview = 500;

    /// <summary>Cuts a value to a column's length, so one overlong field cannot poison a whole batch.</summary>
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
