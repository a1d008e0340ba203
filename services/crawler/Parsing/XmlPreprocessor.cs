using System.Buffers;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace Finstage.Crawler.Parsing;

/// <summary>Repairs the faults real feeds have most often, before a strict XML reader sees the text.</summary>
/// <remarks>
/// It drops the prolog's declaration and DOCTYPE (the text is already decoded, and the reader runs with DTDs
/// prohibited), rewrites HTML entities XML does not define as character references, escapes bare '&amp;' and
/// stray '&lt;', and expands only the plain-text entities a document declares in its own internal subset.
/// An entity defined through other entities is the shape of an expansion attack and is refused outright.
/// </remarks>
internal sealed partial class XmlPreprocessor
{
    private readonly string _text;
    private readonly FeedParserOptions _options;
    private readonly List<string> _warnings;
    private readonly Dictionary<string, string> _declared = new(StringComparer.Ordinal);
    private readonly HashSet<string> _usedPrefixes = new(StringComparer.Ordinal);
    private readonly HashSet<string> _declaredPrefixes = new(StringComparer.Ordinal);
    private readonly HashSet<string> _warned = new(StringComparer.Ordinal);
    private readonly CancellationToken _cancellationToken;
    private long _expanded;
    private int _undefinedEntities;
    private FeedParseResult? _failure;

    // Where the next '>' and the next '<' after the last lookup are (text.Length when there is none). Lookups only
    // move forward, so each is found once: scanning from every '<' for its tag's end was quadratic in '<'s.
    private int _nextGreaterThan = -1;
    private int _nextLessThan = -1;

    /// <summary>The characters of a tag searched for namespace prefixes; a longer one is not read for them.</summary>
    private const int MaxTagForPrefixes = 4096;

    /// <summary>Distinct undefined entities named in warnings; the rest are counted in one more.</summary>
    private const int MaxUndefinedEntityWarnings = 16;

    /// <summary>Characters copied between two looks at the cancellation token.</summary>
    private const int CancellationStride = 1 << 16;

    // XML 1.0 forbids most C0 control characters and U+FFFE/U+FFFF even as plain text, and the reader stops at
    // the first one: a single stray control byte in one title would lose every item after it.
    private static readonly SearchValues<char> ForbiddenCharacters = SearchValues.Create(
        "\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\u0008\u000B\u000C\u000E\u000F" +
        "\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001A\u001B\u001C\u001D\u001E\u001F\uFFFE\uFFFF");

    private XmlPreprocessor(string text, FeedParserOptions options, List<string> warnings, CancellationToken cancellationToken)
    {
        _text = text;
        _options = options;
        _warnings = warnings;
        _warned.UnionWith(warnings);
        _cancellationToken = cancellationToken;
    }

    /// <summary>The repaired text, or the reason it cannot be a feed.</summary>
    public readonly record struct Outcome(string? Text, FeedParseResult? Failure);

    /// <exception cref="OperationCanceledException">When <paramref name="cancellationToken"/> is cancelled while it runs.</exception>
    public static Outcome Prepare(string text, FeedParserOptions options, List<string> warnings, CancellationToken cancellationToken = default) =>
        new XmlPreprocessor(WithoutForbiddenCharacters(text, warnings), options, warnings, cancellationToken).Run();

    private static string WithoutForbiddenCharacters(string text, List<string> warnings)
    {
        var first = text.AsSpan().IndexOfAny(ForbiddenCharacters);
        if (first < 0)
        {
            return text;
        }

        warnings.Add("control characters XML forbids removed");
        var sb = new StringBuilder(text.Length);
        sb.Append(text, 0, first);
        foreach (var c in text.AsSpan(first))
        {
            if (c is '\u000B' or '\u000C')
            {
                // Vertical tab and form feed separate words like a space does.
                sb.Append(' ');
            }
            else if (!ForbiddenCharacters.Contains(c))
            {
                sb.Append(c);
            }
        }

        return sb.ToString();
    }

    private Outcome Run()
    {
        var start = SkipProlog();
        if (_failure is not null)
        {
            return new Outcome(null, _failure);
        }

        var rootName = ReadName(start + 1);
        var localName = rootName[(rootName.IndexOf(':', StringComparison.Ordinal) + 1)..];
        if (localName.Equals("html", StringComparison.OrdinalIgnoreCase))
        {
            return new Outcome(null, FeedParseResult.NotAFeed("an HTML page (<html> root element), not RSS or Atom"));
        }

        // The dropped prolog leaves its line breaks behind, so the reader's line numbers match the document's.
        var prologLines = _text.AsSpan(0, start).Count('\n');
        var body = RepairBody(start, prologLines);
        return _failure is not null
            ? new Outcome(null, _failure)
            : new Outcome(DeclareMissingPrefixes(body, prologLines + 1 + rootName.Length), null);
    }

    private int SkipProlog()
    {
        var text = _text;
        var i = 0;
        var warnedText = false;
        while (true)
        {
            while (i < text.Length && (char.IsWhiteSpace(text[i]) || text[i] == '\uFEFF'))
            {
                i++;
            }

            if (i >= text.Length)
            {
                _failure = FeedParseResult.ParseError(text.Trim().Length == 0 ? "empty document" : "not XML: no root element");
                return -1;
            }

            if (At(i, "<?") || At(i, "<!--"))
            {
                var close = At(i, "<?") ? "?>" : "-->";
                var end = text.IndexOf(close, i + 2, StringComparison.Ordinal);
                if (end < 0)
                {
                    _failure = FeedParseResult.ParseError("not XML: unterminated markup before the root element");
                    return -1;
                }

                i = end + close.Length;
            }
            else if (AtIgnoreCase(i, "<!DOCTYPE"))
            {
                var end = DoctypeEnd(i);
                if (end < 0)
                {
                    _failure = FeedParseResult.ParseError("not XML: unterminated DOCTYPE");
                    return -1;
                }

                ReadDeclaredEntities(text[i..end]);
                if (_failure is not null)
                {
                    return -1;
                }

                i = end;
            }
            else if (text[i] == '<' && i + 1 < text.Length && IsNameStart(text[i + 1]))
            {
                return i;
            }
            else
            {
                if (!warnedText)
                {
                    _warnings.Add("text before the root element ignored");
                    warnedText = true;
                }

                var next = text.IndexOf('<', i + 1);
                if (next < 0)
                {
                    _failure = FeedParseResult.ParseError("not XML: no root element");
                    return -1;
                }

                i = next;
            }
        }
    }

    private string RepairBody(int start, int prologLines)
    {
        var text = _text;
        var sb = new StringBuilder(text.Length - start + 256);
        sb.Append('\n', prologLines);
        var i = start;
        var nextCheck = i + CancellationStride;
        while (i < text.Length && _failure is null)
        {
            if (i >= nextCheck)
            {
                _cancellationToken.ThrowIfCancellationRequested();
                nextCheck = i + CancellationStride;
            }

            var c = text[i];
            if (c == '<')
            {
                i = CopyMarkup(i, sb);
            }
            else if (c == '&')
            {
                i = RepairReference(i, sb);
            }
            else
            {
                sb.Append(c);
                i++;
            }
        }

        return sb.ToString();
    }

    private int CopyMarkup(int i, StringBuilder sb)
    {
        var text = _text;
        if (At(i, "<![CDATA[") || At(i, "<!--"))
        {
            var close = At(i, "<!--") ? "-->" : "]]>";
            var end = text.IndexOf(close, i + 4, StringComparison.Ordinal);
            var stop = end < 0 ? text.Length : end + close.Length;
            sb.Append(text, i, stop - i);
            return stop;
        }

        if (At(i, "<?"))
        {
            var end = text.IndexOf("?>", i + 2, StringComparison.Ordinal);
            var stop = end < 0 ? text.Length : end + 2;
            if (!IsXmlDeclaration(i))
            {
                sb.Append(text, i, stop - i);
            }

            return stop;
        }

        if (AtIgnoreCase(i, "<!DOCTYPE"))
        {
            var end = DoctypeEnd(i);
            AddOnce("DOCTYPE inside the document ignored");
            return end < 0 ? text.Length : end;
        }

        if (VoidElementEnd(i) is > 0 and var voidEnd)
        {
            // HTML's <br> and <img …> left unescaped in a description would otherwise break the XML from there on.
            var tag = text.AsSpan(i, voidEnd - i);
            sb.Append(tag[..^1]).Append(tag[^2] == '/' ? ">" : "/>");
            return voidEnd;
        }

        if (i + 1 < text.Length && (IsNameStart(text[i + 1]) || text[i + 1] is '/' or '!'))
        {
            NotePrefixes(i);
            sb.Append('<');
            return i + 1;
        }

        AddOnce("a bare '<' in text escaped");
        sb.Append("&lt;");
        return i + 1;
    }

    private int RepairReference(int i, StringBuilder sb)
    {
        var text = _text;
        var k = i + 1;
        if (k < text.Length && text[k] == '#')
        {
            return RepairCharacterReference(i, sb);
        }

        while (k < text.Length && k - i <= 64 && IsNameChar(text[k]))
        {
            k++;
        }

        if (k == i + 1 || k >= text.Length || text[k] != ';')
        {
            AddOnce("a bare '&' escaped");
            sb.Append("&amp;");
            return i + 1;
        }

        var name = text[(i + 1)..k];
        if (name is "amp" or "lt" or "gt" or "quot" or "apos")
        {
            sb.Append(text, i, k + 1 - i);
        }
        else if (_declared.TryGetValue(name, out var value))
        {
            _expanded += value.Length;
            if (_expanded > _options.MaxCharactersFromEntities)
            {
                _failure = FeedParseResult.ParseError(
                    $"entities declared in the DTD expand past {_options.MaxCharactersFromEntities} characters");
            }

            sb.Append(value);
        }
        else if (HtmlEntity(name) is { } decoded)
        {
            foreach (var rune in decoded.EnumerateRunes())
            {
                sb.Append("&#").Append(rune.Value.ToString(CultureInfo.InvariantCulture)).Append(';');
            }
        }
        else
        {
            // A name per warning, but not a warning per name: a flood of made-up entities would make as many.
            var warning = $"undefined entity &{name}; kept as text";
            if (!_warned.Contains(warning))
            {
                AddOnce(_undefinedEntities++ < MaxUndefinedEntityWarnings
                    ? warning
                    : $"more than {MaxUndefinedEntityWarnings} undefined entities kept as text");
            }

            sb.Append("&amp;").Append(name).Append(';');
        }

        return k + 1;
    }

    private int RepairCharacterReference(int i, StringBuilder sb)
    {
        var text = _text;
        var k = i + 2;
        var hex = k < text.Length && text[k] is 'x' or 'X';
        if (hex)
        {
            k++;
        }

        var digitsStart = k;
        while (k < text.Length && k - digitsStart < 10 && (hex ? char.IsAsciiHexDigit(text[k]) : char.IsAsciiDigit(text[k])))
        {
            k++;
        }

        if (k == digitsStart || k >= text.Length || text[k] != ';')
        {
            AddOnce("a bare '&' escaped");
            sb.Append("&amp;");
            return i + 1;
        }

        var digits = text.AsSpan(digitsStart, k - digitsStart);
        var ok = long.TryParse(digits, hex ? NumberStyles.AllowHexSpecifier : NumberStyles.None, CultureInfo.InvariantCulture, out var code);
        if (ok && IsXmlChar(code))
        {
            // XML allows only a lower-case x; HTML (and careless feeds) also write &#X41;.
            sb.Append(hex ? "&#x" : "&#").Append(digits).Append(';');
        }
        else
        {
            AddOnce("a reference to a character XML forbids replaced");
            sb.Append("&#xFFFD;");
        }

        return k + 1;
    }

    // The end of an unclosed HTML void element (<br>, <hr>, <img …>, <wbr>) starting at i, or -1.
    private int VoidElementEnd(int i)
    {
        var text = _text;
        var m = VoidElement().Match(text, i, Math.Min(text.Length - i, 2048));
        if (!m.Success || m.Index != i)
        {
            return -1;
        }

        var end = m.Index + m.Length;
        var closing = "</" + m.Groups[1].Value;
        var next = text.AsSpan(end).TrimStart();
        return next.StartsWith(closing, StringComparison.OrdinalIgnoreCase) || text[end - 2] == '/' ? -1 : end;
    }

    // Feeds use dc:, media: or itunes: without declaring them, which XML calls fatal. Well-known prefixes get
    // their real namespace (so dc:creator is still read as the author); unknown ones a placeholder.
    private string DeclareMissingPrefixes(string body, int afterRootName)
    {
        var missing = _usedPrefixes
            .Where(p => p is not "xml" and not "xmlns" && !_declaredPrefixes.Contains(p))
            .Order(StringComparer.Ordinal)
            .Take(32)
            .ToList();
        if (missing.Count == 0)
        {
            return body;
        }

        AddOnce($"undeclared namespace prefix(es) {string.Join(", ", missing)} declared");
        var declarations = string.Concat(missing.Select(p => $" xmlns:{p}=\"{WellKnownNamespace(p)}\""));
        return body.Insert(afterRootName, declarations);
    }

    // Tags only (never CDATA, comments or text), so "<o:p>" inside escaped HTML is not mistaken for XML.
    // A tag ends at its '>'; a '<' before it means it is broken (XML allows no '<' inside a tag), and is read
    // only up to there, so that no character is read for more than one tag.
    private void NotePrefixes(int i)
    {
        var greaterThan = NextIndexOf('>', i + 1, ref _nextGreaterThan);
        var lessThan = NextIndexOf('<', i + 1, ref _nextLessThan);
        var end = Math.Min(greaterThan, lessThan);
        if (end - i > MaxTagForPrefixes)
        {
            // The XML reader's time per attribute grows with the attributes of the element (0.5 M of them in one
            // tag cost it 20 times a 5 MB feed); no feed has an element with more than a few dozen.
            if (CountAttributes(_text.AsSpan(i, end - i)) > _options.MaxAttributesPerElement)
            {
                _failure = FeedParseResult.ParseError($"an element with more than {_options.MaxAttributesPerElement} attributes");
            }

            return;
        }

        if (greaterThan == _text.Length)
        {
            return;
        }

        var tag = _text.AsSpan(i, end - i + 1);
        foreach (var m in UsedPrefix().EnumerateMatches(tag))
        {
            var match = tag.Slice(m.Index, m.Length).TrimStart("</ \t\r\n");
            _usedPrefixes.Add(match[..match.IndexOf(':')].ToString());
        }

        foreach (var m in DeclaredPrefix().EnumerateMatches(tag))
        {
            var match = tag.Slice(m.Index + 6, m.Length - 6);
            _declaredPrefixes.Add(match[..match.IndexOfAny('=', ' ', '\t')].Trim().ToString());
        }
    }

    // The '=' outside quoted values: the attributes of a tag as the XML reader will read them.
    private static int CountAttributes(ReadOnlySpan<char> tag)
    {
        var count = 0;
        var quote = '\0';
        foreach (var c in tag)
        {
            if (quote != '\0')
            {
                quote = c == quote ? '\0' : quote;
            }
            else if (c is '"' or '\'')
            {
                quote = c;
            }
            else if (c == '=')
            {
                count++;
            }
        }

        return count;
    }

    // The first 'c' at or after 'from' (text.Length when there is none), remembered in 'cached'. Callers ask with
    // 'from' never decreasing, so the text is scanned for each character once in all.
    private int NextIndexOf(char c, int from, ref int cached)
    {
        if (cached < from)
        {
            var found = from < _text.Length ? _text.IndexOf(c, from) : -1;
            cached = found < 0 ? _text.Length : found;
        }

        return cached;
    }

    private static string WellKnownNamespace(string prefix) => prefix switch
    {
        "dc" => Namespaces.Dc,
        "dcterms" => Namespaces.DcTerms,
        "content" => Namespaces.Content,
        "media" => Namespaces.Media,
        "atom" => Namespaces.Atom10,
        "rdf" => Namespaces.Rdf,
        "itunes" => Namespaces.Itunes,
        _ => "urn:x-undeclared:" + prefix,
    };

    private void ReadDeclaredEntities(string doctype)
    {
        foreach (Match m in ExternalEntity().Matches(doctype))
        {
            AddOnce($"external entity '{m.Groups[1].Value}' not loaded");
        }

        foreach (Match m in InternalEntity().Matches(doctype))
        {
            var name = m.Groups[1].Value;
            var value = m.Groups[2].Success ? m.Groups[2].Value : m.Groups[3].Value;
            if (EntityReference().IsMatch(value))
            {
                _failure = FeedParseResult.ParseError(
                    $"the DTD defines entity '{name}' through other entities; nested entity expansion is refused");
                return;
            }

            if (_declared.Count >= 256)
            {
                _failure = FeedParseResult.ParseError("the DTD declares more than 256 entities");
                return;
            }

            _declared.TryAdd(name, value.Replace("<", "&lt;", StringComparison.Ordinal));
        }
    }

    private int DoctypeEnd(int start)
    {
        var text = _text;
        var depth = 0;
        var quote = '\0';
        for (var i = start + 2; i < text.Length; i++)
        {
            var c = text[i];
            if (quote != '\0')
            {
                if (c == quote)
                {
                    quote = '\0';
                }
            }
            else if (c is '"' or '\'')
            {
                quote = c;
            }
            else if (c == '[')
            {
                depth++;
            }
            else if (c == ']')
            {
                depth--;
            }
            else if (c == '>' && depth <= 0)
            {
                return i + 1;
            }
        }

        return -1;
    }

    // WebUtility's decoder carries the HTML 4 entity table (nbsp, eacute, mdash, hellip, euro …): that is our table.
    private static string? HtmlEntity(string name)
    {
        var reference = "&" + name + ";";
        var decoded = WebUtility.HtmlDecode(reference);
        return decoded == reference ? null : decoded;
    }

    private string ReadName(int i)
    {
        var k = i;
        while (k < _text.Length && IsNameChar(_text[k]))
        {
            k++;
        }

        return _text[i..k];
    }

    private bool IsXmlDeclaration(int i) =>
        At(i, "<?xml") && i + 5 < _text.Length && (char.IsWhiteSpace(_text[i + 5]) || _text[i + 5] == '?');

    private bool At(int i, string s) => string.CompareOrdinal(_text, i, s, 0, s.Length) == 0;

    private bool AtIgnoreCase(int i, string s) =>
        string.Compare(_text, i, s, 0, s.Length, StringComparison.OrdinalIgnoreCase) == 0;

    // A set, not a search of the list: a document can ask for a warning at every character.
    private void AddOnce(string warning)
    {
        if (_warned.Add(warning))
        {
            _warnings.Add(warning);
        }
    }

    private static bool IsXmlChar(long c) =>
        c is 0x9 or 0xA or 0xD or (>= 0x20 and <= 0xD7FF) or (>= 0xE000 and <= 0xFFFD) or (>= 0x10000 and <= 0x10FFFF);

    private static bool IsNameStart(char c) => char.IsLetter(c) || c is '_' or ':';

    private static bool IsNameChar(char c) => char.IsLetterOrDigit(c) || c is '_' or ':' or '-' or '.';

    [GeneratedRegex("""<!ENTITY\s+([^\s%][^\s]*)\s+(?:"([^"]*)"|'([^']*)')""")]
    private static partial Regex InternalEntity();

    [GeneratedRegex("""<!ENTITY\s+([^\s%][^\s]*)\s+(?:SYSTEM|PUBLIC)\b""")]
    private static partial Regex ExternalEntity();

    [GeneratedRegex("""[&%][A-Za-z_:]""")]
    private static partial Regex EntityReference();

    [GeneratedRegex("""\G<(br|hr|img|wbr)(?=[\s/>])(?:[^<>"']|"[^"]*"|'[^']*')*>""", RegexOptions.IgnoreCase)]
    private static partial Regex VoidElement();

    [GeneratedRegex("""xmlns:([A-Za-z_][\w.\-]*)\s*=""")]
    private static partial Regex DeclaredPrefix();

    [GeneratedRegex("""(?:^</?|\s)([A-Za-z_][\w.\-]*):[A-Za-z_][\w.\-]*(?=[\s/>=])""")]
    private static partial Regex UsedPrefix();
}
