using System.Net;
using System.Text;

namespace Finstage.Crawler.Parsing;

/// <summary>Reduces HTML found in titles and summaries to plain, whitespace-normalised text.</summary>
/// <remarks>A small tag scanner rather than an HTML parser: the output is text for storage and search,
/// so all it must do is drop tags, scripts, styles and comments and decode entities.</remarks>
public static class HtmlText
{
    private static readonly Encoding StrictUtf8 = new UTF8Encoding(false, true);
    private static readonly Encoding Latin1Strict = Encoding.GetEncoding("iso-8859-1", EncoderFallback.ExceptionFallback, DecoderFallback.ExceptionFallback);
    private static readonly Encoding Windows1252 = CodePages(1252, DecoderFallback.ReplacementFallback);
    private static readonly Encoding Windows1252Strict = CodePages(1252, DecoderFallback.ExceptionFallback);

    private static readonly HashSet<string> Dropped = new(StringComparer.OrdinalIgnoreCase)
    {
        "script", "style", "noscript", "template",
    };

    private static readonly HashSet<string> Block = new(StringComparer.OrdinalIgnoreCase)
    {
        "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption", "figure",
        "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "img", "li", "main", "nav", "ol", "p",
        "pre", "section", "table", "td", "th", "tr", "ul",
    };

    /// <summary>Plain text of an HTML fragment: tags removed, entities decoded, whitespace collapsed.</summary>
    public static string ToPlainText(string html)
    {
        if (html.IndexOf('<', StringComparison.Ordinal) < 0 && html.IndexOf('&', StringComparison.Ordinal) < 0)
        {
            return NormalizeWhitespace(html);
        }

        var sb = new StringBuilder(html.Length);
        var i = 0;
        while (i < html.Length)
        {
            var lt = html.IndexOf('<', i);
            if (lt < 0)
            {
                sb.Append(WebUtility.HtmlDecode(html[i..]));
                break;
            }

            sb.Append(WebUtility.HtmlDecode(html[i..lt]));
            i = SkipMarkup(html, lt, sb);
        }

        return NormalizeWhitespace(sb.ToString());
    }

    /// <summary>Collapses every run of whitespace (including no-break spaces) to one space and trims the ends;
    /// control characters are removed.</summary>
    public static string NormalizeWhitespace(string text)
    {
        text = RepairMisdecoding(text);
        var sb = new StringBuilder(text.Length);
        var pendingSpace = false;
        foreach (var c in text)
        {
            if (char.IsWhiteSpace(c))
            {
                pendingSpace = sb.Length > 0;
            }
            else if (c is >= '\u0080' and <= '\u009F')
            {
                // C1 controls in feeds are windows-1252 punctuation (’ “ ” – …) that went through Latin-1.
                var mapped = Windows1252.GetString([(byte)c]);
                if (mapped.Length == 1 && !char.IsControl(mapped[0]))
                {
                    if (pendingSpace)
                    {
                        sb.Append(' ');
                        pendingSpace = false;
                    }

                    sb.Append(mapped);
                }
            }
            else if (!char.IsControl(c))
            {
                if (pendingSpace)
                {
                    sb.Append(' ');
                    pendingSpace = false;
                }

                sb.Append(c);
            }
        }

        return sb.ToString();
    }

    /// <summary>Undoes UTF-8 that was read as Latin-1 or windows-1252 somewhere upstream ("â€™" for "’").</summary>
    /// <remarks>Only when the whole text re-encodes to valid UTF-8 with at least one multi-byte sequence, which
    /// ordinary Latin-1 text ("café", "Señor") never does.</remarks>
    internal static string RepairMisdecoding(string text)
    {
        if (!text.Any(c => c is >= '\u00C2' and <= '\u00F4'))
        {
            return text;
        }

        foreach (var encoding in (Encoding[])[Latin1Strict, Windows1252Strict])
        {
            try
            {
                var repaired = StrictUtf8.GetString(encoding.GetBytes(text));
                if (repaired.Length < text.Length)
                {
                    return repaired;
                }
            }
            catch (EncoderFallbackException)
            {
            }
            catch (DecoderFallbackException)
            {
            }
        }

        return text;
    }

    internal static bool IsDroppedElement(string name) => Dropped.Contains(name);

    internal static bool IsBlockElement(string name) => Block.Contains(name);

    private static Encoding CodePages(int codePage, DecoderFallback decoderFallback)
    {
        Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);
        return Encoding.GetEncoding(codePage, EncoderFallback.ExceptionFallback, decoderFallback);
    }

    // Returns the index after the markup at 'lt'; a '<' that starts no markup is kept as text.
    private static int SkipMarkup(string html, int lt, StringBuilder sb)
    {
        if (string.CompareOrdinal(html, lt, "<!--", 0, 4) == 0)
        {
            var end = html.IndexOf("-->", lt + 4, StringComparison.Ordinal);
            return end < 0 ? html.Length : end + 3;
        }

        if (string.CompareOrdinal(html, lt, "<![CDATA[", 0, 9) == 0)
        {
            var end = html.IndexOf("]]>", lt + 9, StringComparison.Ordinal);
            var stop = end < 0 ? html.Length : end;
            sb.Append(html, lt + 9, stop - lt - 9);
            return end < 0 ? html.Length : end + 3;
        }

        var next = lt + 1 < html.Length ? html[lt + 1] : '\0';
        var closing = next == '/';
        var nameStart = closing ? lt + 2 : lt + 1;
        if (!(nameStart < html.Length && (char.IsAsciiLetter(html[nameStart]) || (!closing && next is '!' or '?'))))
        {
            sb.Append('<');
            return lt + 1;
        }

        var tagEnd = TagEnd(html, nameStart);
        if (tagEnd < 0)
        {
            sb.Append('<');
            return lt + 1;
        }

        var nameEnd = nameStart;
        while (nameEnd < html.Length && (char.IsAsciiLetterOrDigit(html[nameEnd]) || html[nameEnd] is ':' or '-'))
        {
            nameEnd++;
        }

        var name = html[nameStart..nameEnd];
        if (IsBlockElement(name))
        {
            sb.Append(' ');
        }

        if (!closing && IsDroppedElement(name) && html[tagEnd - 2] != '/')
        {
            var close = html.IndexOf("</" + name, tagEnd, StringComparison.OrdinalIgnoreCase);
            if (close < 0)
            {
                return html.Length;
            }

            var closeEnd = html.IndexOf('>', close);
            return closeEnd < 0 ? html.Length : closeEnd + 1;
        }

        return tagEnd;
    }

    // The index after the tag's '>', or -1 when what follows '<' is no tag ("a < b", "x <y and z").
    // Once an attribute value has been quoted the text is a tag for certain, and, as in a browser, it ends at
    // its '>' or, unclosed, where the next tag begins or the text ends. Giving up on such a tag and reading
    // on from the next character would scan its quoted '<'s again, as many times as there are.
    private static int TagEnd(string html, int from)
    {
        var quote = '\0';
        var quoted = false;
        var last = '\0';
        for (var i = from; i < html.Length; i++)
        {
            var c = html[i];
            if (quote != '\0')
            {
                if (c == quote)
                {
                    quote = '\0';
                }
            }
            else if (c is '"' or '\'' && last == '=')
            {
                quote = c;
                quoted = true;
            }
            else if (c == '>')
            {
                return i + 1;
            }
            else if (c == '<')
            {
                return quoted ? i : -1;
            }

            if (!char.IsWhiteSpace(c))
            {
                last = c;
            }
        }

        return quoted ? html.Length : -1;
    }
}
