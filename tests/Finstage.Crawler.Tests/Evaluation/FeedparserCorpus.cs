using System.Text;
using System.Text.RegularExpressions;

namespace Finstage.Crawler.Tests.Evaluation;

/// <summary>One document of the feedparser test corpus with the expectation its comment header states.</summary>
internal sealed record CorpusCase(string RelativePath, byte[] Content, string Expect, string? ContentType)
{
    public override string ToString() => RelativePath;
}

/// <summary>Reads the feedparser corpus (../shared/fixtures/feeds/feedparser/tests) and its Expect headers.</summary>
internal static partial class FeedparserCorpus
{
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, IReadOnlyList<CorpusCase>> Loaded = new();

    /// <summary>The corpus read once per test run; every data row of the corpus theory needs it.</summary>
    public static IReadOnlyList<CorpusCase> Cached(string testsFolder) => Loaded.GetOrAdd(testsFolder, Load);

    public static IReadOnlyList<CorpusCase> Load(string testsFolder) =>
        [.. Directory.EnumerateFiles(testsFolder, "*.xml", SearchOption.AllDirectories)
            .Order(StringComparer.Ordinal)
            .Select(path => Read(testsFolder, path))
            .OfType<CorpusCase>()];

    private static CorpusCase? Read(string root, string path)
    {
        var bytes = File.ReadAllBytes(path);
        var header = DecodeForHeader(bytes);
        var expect = ExpectLine().Match(header);
        if (!expect.Success)
        {
            return null;
        }

        string? contentType = null;
        foreach (Match h in HeaderLine().Matches(header))
        {
            if (h.Groups[1].Value.Trim().Equals("Content-type", StringComparison.OrdinalIgnoreCase))
            {
                contentType = h.Groups[2].Value.Trim();
            }
        }

        var relative = Path.GetRelativePath(root, path).Replace('\\', '/');
        return new CorpusCase(relative, bytes, expect.Groups[1].Value.Trim(), contentType);
    }

    // The header must be found before the document's own encoding is known, so sniff the width and byte order
    // from the first bytes (every file starts with "<" or a byte-order mark) and otherwise read it as UTF-8.
    private static string DecodeForHeader(byte[] b)
    {
        static bool Starts(byte[] b, params byte[] p) => b.AsSpan().StartsWith(p);

        if (Starts(b, 0x00, 0x00, 0xFE, 0xFF) || Starts(b, 0x00, 0x00, 0x00, 0x3C))
        {
            return new UTF32Encoding(true, false).GetString(b);
        }

        if (Starts(b, 0xFF, 0xFE, 0x00, 0x00) || Starts(b, 0x3C, 0x00, 0x00, 0x00))
        {
            return new UTF32Encoding(false, false).GetString(b);
        }

        if (Starts(b, 0xFE, 0xFF) || Starts(b, 0x00, 0x3C))
        {
            return Encoding.BigEndianUnicode.GetString(b);
        }

        if (Starts(b, 0xFF, 0xFE) || Starts(b, 0x3C, 0x00))
        {
            return Encoding.Unicode.GetString(b);
        }

        return Encoding.UTF8.GetString(b);
    }

    [GeneratedRegex(@"Description:\s*.*?\s*Expect:\s*(.*)\s*-->")]
    private static partial Regex ExpectLine();

    [GeneratedRegex(@"^Header:\s+([^:]+):(.*)$", RegexOptions.Multiline)]
    private static partial Regex HeaderLine();
}
