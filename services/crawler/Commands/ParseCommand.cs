using System.CommandLine;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using Finstage.Crawler.Parsing;

namespace Finstage.Crawler.Commands;

/// <summary><c>parse FILE [--content-type …]</c>: prints a feed file as the crawler reads it, as JSON.</summary>
/// <remarks>Exit 0 for any feed (even an empty one); exit 2 with one line "Reason: detail" on stderr when the
/// file is not a feed, cannot be read as one, or is too large; exit 1 when the file itself cannot be opened.</remarks>
public static class ParseCommand
{
    public const int NotParsedExitCode = 2;

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        // The output is read by people and tools, never embedded in HTML; keep non-ASCII text readable.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        WriteIndented = true,
    };

    public static Command Create(TextWriter output, TextWriter error)
    {
        var file = new Argument<FileInfo>("FILE") { Description = "An RSS or Atom document." };
        var contentType = new Option<string?>("--content-type")
        {
            Description = "The HTTP Content-Type it was served with, e.g. \"text/xml; charset=iso-8859-1\".",
        };
        var command = new Command("parse", "Parse a feed file and print it as JSON.") { file, contentType };
        command.SetAction(result => Execute(result.GetRequiredValue(file), result.GetValue(contentType), output, error));
        return command;
    }

    public static int Execute(FileInfo file, string? contentType, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        FeedParseResult result;
        try
        {
            using var stream = file.OpenRead();
            result = new FeedParser().Parse(stream, contentType);
        }
        catch (IOException ex)
        {
            error.WriteLine($"cannot read {file.FullName}: {ex.Message}");
            return 1;
        }
        catch (UnauthorizedAccessException ex)
        {
            error.WriteLine($"cannot read {file.FullName}: {ex.Message}");
            return 1;
        }

        return Print(result, output, error);
    }

    /// <summary>Writes a parsed feed as JSON to <paramref name="output"/>, or its failure as one line to <paramref name="error"/>; returns the exit code.</summary>
    public static int Print(FeedParseResult result, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        if (!result.Succeeded)
        {
            error.WriteLine($"{result.Failure}: {HtmlText.NormalizeWhitespace(result.Detail)}");
            return NotParsedExitCode;
        }

        output.WriteLine(JsonSerializer.Serialize(ToJson(result.Feed), Json));
        return 0;
    }

    private static FeedJson ToJson(ParsedFeed feed) => new(
        feed.Format.ToString().ToLowerInvariant(),
        feed.Title,
        feed.Link,
        [.. feed.Items.Select(a => new ItemJson(
            a.Url, a.Title, a.TitleDerived, a.Summary, FormatUtc(a.PublishedAt), a.Author, a.Publisher, a.ImageUrl, a.ExternalId))]);

    private static string? FormatUtc(DateTimeOffset? value) =>
        value?.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);

    private sealed record FeedJson(string Format, string? Title, string? Link, IReadOnlyList<ItemJson> Items);

    private sealed record ItemJson(
        string Url,
        string Title,
        bool TitleDerived,
        string? Summary,
        string? PublishedAt,
        string? Author,
        string? Publisher,
        string? ImageUrl,
        string? ExternalId);
}
