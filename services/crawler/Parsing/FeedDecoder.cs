using System.Text;
using System.Text.RegularExpressions;

namespace Finstage.Crawler.Parsing;

/// <summary>Turns a document's bytes into text, choosing the encoding the way XML and HTTP say to.</summary>
/// <remarks>Order: byte-order mark (or the byte pattern of an unmarked UTF-16/32 "&lt;?"), then the HTTP
/// charset, then the XML declaration, then UTF-8. Bytes that the chosen encoding cannot read are not fatal:
/// the document is read as UTF-8 or windows-1252 instead and a warning says so.</remarks>
internal static partial class FeedDecoder
{
    private static readonly UTF8Encoding StrictUtf8 = new(false, true);

    static FeedDecoder() => Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);

    public static string Decode(ReadOnlySpan<byte> bytes, string? contentType, List<string> warnings)
    {
        var (encoding, skip, source) = Choose(bytes, contentType, warnings);
        var body = bytes[skip..];
        if (TryDecodeStrict(encoding, body, out var text))
        {
            return text;
        }

        warnings.Add($"bytes that are not valid {encoding.WebName} (from {source})");
        if (encoding.CodePage != StrictUtf8.CodePage && TryDecodeStrict(StrictUtf8, body, out text))
        {
            return text;
        }

        // windows-1252 reads any byte, so a mislabelled Latin-1 feed keeps its text.
        var fallback = encoding is UTF8Encoding or ASCIIEncoding
            ? Encoding.GetEncoding(1252)
            : Encoding.GetEncoding(encoding.CodePage);
        return fallback.GetString(body);
    }

    /// <summary>The charset parameter of a Content-Type header, unquoted, or null.</summary>
    public static string? CharsetOf(string? contentType)
    {
        if (string.IsNullOrWhiteSpace(contentType))
        {
            return null;
        }

        foreach (var part in contentType.Split(';').Skip(1))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq < 0 || !part[..eq].Trim().Equals("charset", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            var value = part[(eq + 1)..].Trim().Trim('"', '\'').Trim();
            return value.Length == 0 ? null : value;
        }

        return null;
    }

    /// <summary>Whether a Content-Type names a type that can hold a feed (anything XML, RSS or Atom).</summary>
    public static bool IsXmlMediaType(string contentType)
    {
        var mediaType = contentType.Split(';')[0].Trim();
        return mediaType.Length == 0
            || mediaType.Contains("xml", StringComparison.OrdinalIgnoreCase)
            || mediaType.Contains("rss", StringComparison.OrdinalIgnoreCase)
            || mediaType.Contains("atom", StringComparison.OrdinalIgnoreCase)
            || mediaType.Contains("rdf", StringComparison.OrdinalIgnoreCase);
    }

    private static (Encoding Encoding, int Skip, string Source) Choose(
        ReadOnlySpan<byte> bytes, string? contentType, List<string> warnings)
    {
        if (DetectFromBytes(bytes) is { } detected)
        {
            return (detected.Encoding, detected.BomLength, "byte order mark");
        }

        if (contentType is not null && !IsXmlMediaType(contentType))
        {
            warnings.Add($"served as {contentType.Split(';')[0].Trim()}, not an XML type");
        }

        if (CharsetOf(contentType) is { } charset)
        {
            if (TryGetEncoding(charset) is { } fromHttp)
            {
                return (fromHttp, 0, "HTTP charset");
            }

            warnings.Add($"unknown HTTP charset '{charset}'");
        }

        if (DeclaredEncoding(bytes) is { } declared)
        {
            // An unmarked document that declares UTF-16/32 but has no NUL bytes is lying; it is ASCII-compatible.
            if (TryGetEncoding(declared) is { } fromDeclaration
                && fromDeclaration is not UnicodeEncoding and not UTF32Encoding)
            {
                return (fromDeclaration, 0, "XML declaration");
            }

            if (TryGetEncoding(declared) is null)
            {
                warnings.Add($"unknown declared encoding '{declared}'");
            }
        }

        return (new UTF8Encoding(false, true), 0, "default UTF-8");
    }

    private static (Encoding Encoding, int BomLength)? DetectFromBytes(ReadOnlySpan<byte> b)
    {
        if (b.StartsWith((ReadOnlySpan<byte>)[0x00, 0x00, 0xFE, 0xFF]))
        {
            return (new UTF32Encoding(true, false, true), 4);
        }

        if (b.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE, 0x00, 0x00]))
        {
            return (new UTF32Encoding(false, false, true), 4);
        }

        if (b.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
        {
            return (new UTF8Encoding(false, true), 3);
        }

        if (b.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF]))
        {
            return (new UnicodeEncoding(true, false, true), 2);
        }

        if (b.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE]))
        {
            return (new UnicodeEncoding(false, false, true), 2);
        }

        // No mark: the first character of an XML document is '<', which gives the width and byte order away.
        if (b.StartsWith((ReadOnlySpan<byte>)[0x00, 0x00, 0x00, 0x3C]))
        {
            return (new UTF32Encoding(true, false, true), 0);
        }

        if (b.StartsWith((ReadOnlySpan<byte>)[0x3C, 0x00, 0x00, 0x00]))
        {
            return (new UTF32Encoding(false, false, true), 0);
        }

        if (b.StartsWith((ReadOnlySpan<byte>)[0x00, 0x3C]))
        {
            return (new UnicodeEncoding(true, false, true), 0);
        }

        if (b.StartsWith((ReadOnlySpan<byte>)[0x3C, 0x00]))
        {
            return (new UnicodeEncoding(false, false, true), 0);
        }

        return null;
    }

    private static string? DeclaredEncoding(ReadOnlySpan<byte> bytes)
    {
        // Comments may precede the declaration in the wild, so look a little beyond the first line.
        var head = Encoding.Latin1.GetString(bytes[..Math.Min(bytes.Length, 2048)]);
        var match = DeclarationEncoding().Match(head);
        return match.Success ? match.Groups[1].Value : null;
    }

    private static Encoding? TryGetEncoding(string name)
    {
        var normalised = name.Trim().ToLowerInvariant() switch
        {
            // GB18030 is a superset of both and is what publishers who say gb2312 actually send.
            "gb2312" or "gbk" or "x-gbk" => "gb18030",
            "utf8" => "utf-8",
            var other => other,
        };

        try
        {
            var encoding = Encoding.GetEncoding(normalised);
            return encoding.CodePage switch
            {
                65001 => new UTF8Encoding(false, true),
                1200 => new UnicodeEncoding(false, false, true),
                1201 => new UnicodeEncoding(true, false, true),
                12000 => new UTF32Encoding(false, false, true),
                12001 => new UTF32Encoding(true, false, true),
                _ => Encoding.GetEncoding(encoding.CodePage, EncoderFallback.ReplacementFallback, DecoderFallback.ExceptionFallback),
            };
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    private static bool TryDecodeStrict(Encoding encoding, ReadOnlySpan<byte> bytes, out string text)
    {
        try
        {
            text = encoding.GetString(bytes);
            return true;
        }
        catch (DecoderFallbackException)
        {
            text = "";
            return false;
        }
    }

    [GeneratedRegex("""<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:\-]+)["']""")]
    private static partial Regex DeclarationEncoding();
}
