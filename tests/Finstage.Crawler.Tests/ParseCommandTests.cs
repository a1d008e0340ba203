using System.Text;
using System.Text.Json;
using Finstage.Crawler.Commands;

namespace Finstage.Crawler.Tests;

/// <summary>The <c>parse</c> command run in-process: exit codes, stdout JSON and the one stderr line.</summary>
[Trait("Lane", "Fast")]
public sealed class ParseCommandTests : IDisposable
{
    private readonly List<string> _tempFiles = [];

    [Fact(Timeout = 30_000)]
    public void Run_PrintsFeedAsJsonAndExitsZero_WhenFileIsAFeed()
    {
        var (exit, stdout, stderr) = Run("parse", FixturePaths.Own("yahoo-child-order.xml"));

        exit.ShouldBe(0);
        stderr.ShouldBeEmpty();
        using var json = JsonDocument.Parse(stdout);
        var root = json.RootElement;
        root.GetProperty("format").GetString().ShouldBe("rss20");
        root.GetProperty("title").GetString().ShouldBe("Example Finance: EXMPL News");
        root.GetProperty("link").GetString().ShouldBe("http://finance.example.com/q/h?s=EXMPL");
        var items = root.GetProperty("items").EnumerateArray().ToList();
        items.Count.ShouldBe(3);
        var first = items[0];
        first.EnumerateObject().Select(p => p.Name).ShouldBe(
            ["url", "title", "titleDerived", "summary", "publishedAt", "author", "publisher", "imageUrl", "externalId"]);
        first.GetProperty("url").GetString().ShouldBe("https://finance.example.com/news/example-corp-beats-estimates-101.html");
        first.GetProperty("publishedAt").GetString().ShouldBe("2026-09-24T12:45:01Z");
        first.GetProperty("author").ValueKind.ShouldBe(JsonValueKind.Null);
    }

    [Fact(Timeout = 30_000)]
    public void Run_WritesNullDate_WhenItemHasNone()
    {
        var (exit, stdout, _) = Run("parse", FixturePaths.Own("rss091.xml"));

        exit.ShouldBe(0);
        using var json = JsonDocument.Parse(stdout);
        json.RootElement.GetProperty("items")[0].GetProperty("publishedAt").ValueKind.ShouldBe(JsonValueKind.Null);
    }

    [Fact(Timeout = 30_000)]
    public void Run_ExitsZero_WhenFeedHasNoItems()
    {
        var path = TempFile("<rss version=\"2.0\"><channel><title>Empty</title></channel></rss>"u8.ToArray());

        var (exit, stdout, stderr) = Run("parse", path);

        exit.ShouldBe(0);
        stderr.ShouldBeEmpty();
        using var json = JsonDocument.Parse(stdout);
        json.RootElement.GetProperty("items").GetArrayLength().ShouldBe(0);
    }

    [Theory(Timeout = 30_000)]
    [InlineData("sitemap.xml", "NotAFeed: ")]
    [InlineData("html-page.html", "NotAFeed: ")]
    [InlineData("not-xml.json", "ParseError: ")]
    [InlineData("billion-laughs.xml", "ParseError: ")]
    public void Run_ExitsTwoWithOneReasonLine_WhenFileIsNoFeed(string fixture, string prefix)
    {
        var (exit, stdout, stderr) = Run("parse", FixturePaths.Own(fixture));

        exit.ShouldBe(2);
        stdout.ShouldBeEmpty();
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines.ShouldHaveSingleItem().ShouldStartWith(prefix);
    }

    [Fact(Timeout = 30_000)]
    public void Run_ExitsTwoWithTooLarge_WhenFileExceedsFiveMegabytes()
    {
        var bytes = new byte[(5 * 1024 * 1024) + 1];
        Array.Fill(bytes, (byte)' ');
        "<rss>"u8.CopyTo(bytes);
        var path = TempFile(bytes);

        var (exit, _, stderr) = Run("parse", path);

        exit.ShouldBe(2);
        stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).ShouldHaveSingleItem().ShouldStartWith("TooLarge: ");
    }

    [Fact(Timeout = 30_000)]
    public void Run_UsesTheGivenCharset_WhenContentTypeOptionIsSet()
    {
        var (exit, stdout, _) = Run("parse", FixturePaths.Own("windows1251-no-declaration.xml"), "--content-type", "text/xml; charset=windows-1251");

        exit.ShouldBe(0);
        using var json = JsonDocument.Parse(stdout);
        json.RootElement.GetProperty("title").GetString().ShouldBe("Новости рынка");
    }

    [Fact(Timeout = 30_000)]
    public void Run_ExitsOneWithMessage_WhenFileDoesNotExist()
    {
        var (exit, stdout, stderr) = Run("parse", Path.Combine(Path.GetTempPath(), $"missing-{Guid.NewGuid():N}.xml"));

        exit.ShouldBe(1);
        stdout.ShouldBeEmpty();
        stderr.ShouldNotBeEmpty();
    }

    [Fact(Timeout = 30_000)]
    public void Run_ExitsNonZero_WhenFileArgumentIsMissing()
    {
        var (exit, _, stderr) = Run("parse");

        exit.ShouldNotBe(0);
        stderr.ShouldNotBeEmpty();
    }

    [Theory(Timeout = 30_000)]
    [InlineData(new[] { "parse", "x.xml" }, true)]
    [InlineData(new[] { "--help" }, true)]
    [InlineData(new string[0], false)]
    [InlineData(new[] { "--environment", "Development" }, false)]
    public void Handles_RecognisesCommands_WhenFirstArgumentNamesOne(string[] args, bool expected)
    {
        CrawlerCommands.Handles(args).ShouldBe(expected);
    }

    public void Dispose()
    {
        foreach (var file in _tempFiles)
        {
            File.Delete(file);
        }
    }

    private static (int Exit, string Stdout, string Stderr) Run(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var exit = CrawlerCommands.RunAsync(args, stdout, stderr).GetAwaiter().GetResult();
        return (exit, stdout.ToString(), stderr.ToString());
    }

    private string TempFile(byte[] content)
    {
        var path = Path.Combine(Path.GetTempPath(), $"finstage-parse-{Guid.NewGuid():N}.xml");
        File.WriteAllBytes(path, content);
        _tempFiles.Add(path);
        return path;
    }
}
