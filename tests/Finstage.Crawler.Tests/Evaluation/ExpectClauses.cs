using System.Globalization;
using System.Text;
using Finstage.Crawler.Parsing;

namespace Finstage.Crawler.Tests.Evaluation;

/// <summary>How one Expect clause of the feedparser corpus came out against one parser.</summary>
internal enum ClauseOutcome
{
    Passed,
    Failed,

    /// <summary>The clause is about something the crawler's model does not hold (encoding, tags, enclosures…).</summary>
    NotApplicable,
}

/// <summary>Evaluates feedparser's <c>Expect:</c> lines (a small subset of Python) against a <see cref="FeedView"/>.</summary>
/// <remarks>
/// The line is split into its top-level <c>and</c> terms; each is a clause. A clause that touches anything
/// the model lacks is not applicable. Mapping: feed title/link; entries' title, link, summary/description,
/// author, id/guid; every entry date (published, updated, created, issued, modified, raw or <c>*_parsed</c>)
/// against the one PublishedAt; version; bozo; len(entries). Titles and summaries are compared as plain text,
/// because feedparser keeps (sanitised) HTML where the crawler stores text: both sides go through the same
/// HTML-to-text reduction. Raw date strings are compared as instants.
/// </remarks>
internal sealed class ExpectClauses
{
    private static readonly object Unmapped = new();
    private static readonly object Missing = new();
    private static readonly EntryView NoEntry = new(null, null, null, null, null, null);

    private readonly List<Token> _tokens;
    private readonly FeedView _view;
    private int _pos;

    private ExpectClauses(List<Token> tokens, FeedView view)
    {
        _tokens = tokens;
        _view = view;
    }

    public static IReadOnlyList<(string Clause, ClauseOutcome Outcome)> Evaluate(string expect, FeedView view)
    {
        var tokens = Tokenize(expect);
        var results = new List<(string, ClauseOutcome)>();
        foreach (var clause in SplitTopLevelAnd(tokens))
        {
            var text = string.Join(' ', clause.Select(t => t.Text));
            ClauseOutcome outcome;
            try
            {
                var evaluator = new ExpectClauses([.. clause, new Token(Kind.End, "")], view);
                var value = evaluator.ParseOr();
                outcome = value == Unmapped ? ClauseOutcome.NotApplicable : Truthy(value) ? ClauseOutcome.Passed : ClauseOutcome.Failed;
            }
            catch (FormatException)
            {
                outcome = ClauseOutcome.NotApplicable;
            }

            results.Add((text, outcome));
        }

        return results;
    }

    // ---- grammar: or > and > not > comparison > postfix > primary ----

    private object ParseOr()
    {
        var left = ParseAnd();
        while (Peek.Is("or"))
        {
            _pos++;
            var right = ParseAnd();
            left = left == Unmapped || right == Unmapped ? (Truthy(left) || Truthy(right) ? true : Unmapped) : Truthy(left) || Truthy(right);
        }

        return left;
    }

    private object ParseAnd()
    {
        var left = ParseNot();
        while (Peek.Is("and"))
        {
            _pos++;
            var right = ParseNot();
            left = left == Unmapped || right == Unmapped ? Unmapped : Truthy(left) && Truthy(right);
        }

        return left;
    }

    private object ParseNot()
    {
        if (Peek.Is("not"))
        {
            _pos++;
            var value = ParseNot();
            return value == Unmapped ? Unmapped : !Truthy(value);
        }

        return ParseComparison();
    }

    private object ParseComparison()
    {
        var left = ParsePostfix();
        object? result = null;
        while (Peek.Kind == Kind.Op || Peek.Is("in") || (Peek.Is("not") && Next.Is("in")))
        {
            var op = Peek.Text;
            _pos++;
            if (op == "not")
            {
                _pos++;
                op = "not in";
            }

            var right = ParsePostfix();
            object step = op switch
            {
                "==" => AreEqual(left, right),
                "!=" => Negate(AreEqual(left, right)),
                _ => Unmapped,
            };
            result = result is null ? step : (result == Unmapped || step == Unmapped ? Unmapped : Truthy(result) && Truthy(step));
            left = right;
        }

        return result ?? left;
    }

    private object ParsePostfix()
    {
        var value = ParsePrimary();
        while (true)
        {
            if (Peek.Is("["))
            {
                _pos++;
                var key = ParseOr();
                Expect("]");
                value = Subscript(value, key);
            }
            else if (Peek.Is("."))
            {
                _pos++;
                var name = Take().Text;
                if (Peek.Is("("))
                {
                    var args = ParseArguments();
                    value = name switch
                    {
                        "has_key" when args.Count == 1 => HasKey(value, args[0]),
                        "get" when args.Count >= 1 => Subscript(value, args[0]) is var got && got == Missing && args.Count > 1 ? args[1] : Subscript(value, args[0]),
                        _ => Unmapped,
                    };
                }
                else
                {
                    value = Subscript(value, name);
                }
            }
            else
            {
                return value;
            }
        }
    }

    private object ParsePrimary()
    {
        var token = Take();
        switch (token.Kind)
        {
            case Kind.String:
                return token.Value!;
            case Kind.Number:
                return long.Parse(token.Text, CultureInfo.InvariantCulture);
            case Kind.Name:
                return token.Text switch
                {
                    "True" => true,
                    "False" => false,
                    "None" => Missing,
                    "bozo" => _view.Bozo,
                    "version" => new Version(_view.Version),
                    "feed" => new FeedObject(_view),
                    "entries" => _view.Entries,
                    "len" or "ord" => CallBuiltin(token.Text),
                    _ => Unmapped,
                };
            case Kind.Punct when token.Text == "(":
                var first = ParseOr();
                if (Peek.Is(","))
                {
                    var items = new List<object> { first };
                    while (Peek.Is(","))
                    {
                        _pos++;
                        if (Peek.Is(")"))
                        {
                            break;
                        }

                        items.Add(ParseOr());
                    }

                    Expect(")");
                    return items;
                }

                Expect(")");
                return first;
            case Kind.Punct when token.Text == "{":
                while (!Take().Is("}"))
                {
                }

                return Unmapped;
            default:
                throw new FormatException($"unexpected '{token.Text}'");
        }
    }

    private object CallBuiltin(string name)
    {
        var args = ParseArguments();
        if (args.Count != 1 || args[0] == Unmapped)
        {
            return Unmapped;
        }

        return name switch
        {
            "len" => args[0] is IReadOnlyList<EntryView> list ? (long)list.Count : Unmapped,
            "ord" => args[0] is Text { Value: { Length: > 0 } s } && s.EnumerateRunes().Count() == 1 ? (long)s.EnumerateRunes().First().Value : Missing,
            _ => Unmapped,
        };
    }

    private List<object> ParseArguments()
    {
        Expect("(");
        var args = new List<object>();
        while (!Peek.Is(")"))
        {
            args.Add(ParseOr());
            if (Peek.Is(","))
            {
                _pos++;
            }
        }

        Expect(")");
        return args;
    }

    // ---- mapping onto the model ----

    private object Subscript(object target, object key)
    {
        if (target == Unmapped || key == Unmapped)
        {
            return Unmapped;
        }

        if (target == Missing)
        {
            return Missing;
        }

        return (target, key) switch
        {
            // A missing entry still maps its keys, so applicability depends on the clause, not on what a parser found.
            (IReadOnlyList<EntryView> list, long index) => new EntryObject(index < list.Count ? list[(int)index] : NoEntry, _view.TextIsPlain),
            (FeedObject feed, string name) => feed.Get(name),
            (EntryObject entry, string name) => entry.Get(name),
            (Detail detail, "value") => detail.Value,
            (Detail, _) => Unmapped,
            (Person person, "name") => person.Name,
            (Person, _) => Unmapped,
            _ => Unmapped,
        };
    }

    private object HasKey(object target, object key)
    {
        var value = Subscript(target, key);
        return value == Unmapped ? Unmapped : Truthy(value);
    }

    private static object AreEqual(object left, object right)
    {
        if (left == Unmapped || right == Unmapped)
        {
            return Unmapped;
        }

        if (left == Missing || right == Missing)
        {
            return left == right;
        }

        return (left, right) switch
        {
            // An element holding only markup (an image, an empty svg) is an empty string to feedparser and absent here.
            (Text a, string b) => (a.IsPlain ? a.Value ?? "" : Norm(a.Value ?? "")) == Norm(b),
            (Text a, Text b) => a.Value is not null && a.Value == b.Value,
            // Both sides canonical: the libraries return links as written, the crawler canonical ones.
            (Link a, string b) => a.Value is not null && (UrlCanonicalizer.Canonicalize(a.Value) ?? a.Value) == (UrlCanonicalizer.Canonicalize(b) ?? b),
            (Link a, Link b) => a.Value is not null && a.Value == b.Value,
            (Plain a, string b) => a.Value is not null && a.Value == b,
            (Version a, string b) => a.Value is not null && a.Value == NormaliseVersion(b),
            (Plain a, Plain b) => a.Value is not null && a.Value == b.Value,
            (Date a, string b) => a.Value is not null && a.Value == FeedDates.Parse(b),
            (Date a, List<object> tuple) => a.Value is { } d && SameInstant(d, tuple),
            (long a, long b) => a == b,
            (bool a, long b) => (a ? 1 : 0) == b,
            (string a, string b) => a == b,
            _ => Unmapped,
        };
    }

    private static bool SameInstant(DateTimeOffset value, List<object> tuple)
    {
        var u = value.UtcDateTime;
        long[] actual = [u.Year, u.Month, u.Day, u.Hour, u.Minute, u.Second];
        return tuple.Count >= 6 && actual.Select((v, i) => tuple[i] is long t && t == v).All(x => x);
    }

    private static object Negate(object value) => value == Unmapped ? Unmapped : !Truthy(value);

    private static bool Truthy(object value) => value switch
    {
        bool b => b,
        long n => n != 0,
        string s => s.Length > 0,
        Text t => !string.IsNullOrEmpty(t.Value),
        Plain p => !string.IsNullOrEmpty(p.Value),
        Version v => !string.IsNullOrEmpty(v.Value),
        Link l => !string.IsNullOrEmpty(l.Value),
        Date d => d.Value is not null,
        _ => value != Missing && value != Unmapped,
    };

    private static string Norm(string html) => HtmlText.ToPlainText(html);

    // feedparser tells the two RSS 0.91 dialects apart by their DOCTYPE; the crawler has no use for that.
    private static string NormaliseVersion(string version) => version is "rss091n" or "rss091u" ? "rss091" : version;

    private sealed record FeedObject(FeedView View)
    {
        private bool Plain => View.TextIsPlain;

        public object Get(string name) => name switch
        {
            "title" => new Text(View.Title, Plain),
            "title_detail" => new Detail(new Text(View.Title, Plain)),
            "link" => new Link(View.Link),
            _ => Unmapped,
        };
    }

    private sealed record EntryObject(EntryView Entry, bool Plain)
    {
        public object Get(string name) => name switch
        {
            "title" => new Text(Entry.Title, Plain),
            "title_detail" => new Detail(new Text(Entry.Title, Plain)),
            "link" => new Link(Entry.Link),
            "summary" or "description" => new Text(Entry.Summary, Plain),
            "summary_detail" => new Detail(new Text(Entry.Summary, Plain)),
            "author" => new Plain(Entry.Author),
            "author_detail" => new Person(new Plain(Entry.Author)),
            "id" or "guid" => new Plain(Entry.Id),
            "published" or "updated" or "created" or "issued" or "modified" or "date"
                or "published_parsed" or "updated_parsed" or "created_parsed" or "issued_parsed" or "modified_parsed" or "date_parsed"
                => new Date(Entry.Published),
            _ => Unmapped,
        };
    }

    /// <param name="IsPlain">The parser already reduced the value to text; feedparser and the libraries keep HTML.</param>
    private sealed record Text(string? Value, bool IsPlain);

    private sealed record Plain(string? Value);

    private sealed record Link(string? Value);

    private sealed record Version(string? Value);

    private sealed record Date(DateTimeOffset? Value);

    private sealed record Detail(object Value);

    private sealed record Person(object Name);

    // ---- tokens ----

    private enum Kind
    {
        Name,
        String,
        Number,
        Op,
        Punct,
        End,
    }

    private sealed record Token(Kind Kind, string Text, string? Value = null)
    {
        public bool Is(string text) => (Kind is Kind.Name or Kind.Punct or Kind.Op) && Text == text;
    }

    private Token Peek => _tokens[Math.Min(_pos, _tokens.Count - 1)];

    private Token Next => _tokens[Math.Min(_pos + 1, _tokens.Count - 1)];

    private Token Take() => _tokens[Math.Min(_pos++, _tokens.Count - 1)];

    private void Expect(string text)
    {
        if (!Take().Is(text))
        {
            throw new FormatException($"expected '{text}'");
        }
    }

    private static IEnumerable<List<Token>> SplitTopLevelAnd(List<Token> tokens)
    {
        var depth = 0;
        var current = new List<Token>();
        var hasOr = tokens.Exists(t => t.Is("or"));
        foreach (var token in tokens)
        {
            if (token.Is("(") || token.Is("[") || token.Is("{"))
            {
                depth++;
            }
            else if (token.Is(")") || token.Is("]") || token.Is("}"))
            {
                depth--;
            }

            // A line with a top-level "or" is one clause: its "and" terms are not independent.
            if (depth == 0 && token.Is("and") && !hasOr)
            {
                yield return current;
                current = [];
            }
            else
            {
                current.Add(token);
            }
        }

        if (current.Count > 0)
        {
            yield return current;
        }
    }

    private static List<Token> Tokenize(string s)
    {
        var tokens = new List<Token>();
        var i = 0;
        while (i < s.Length)
        {
            var c = s[i];
            if (char.IsWhiteSpace(c))
            {
                i++;
            }
            else if (char.IsLetter(c) || c == '_')
            {
                var start = i;
                while (i < s.Length && (char.IsLetterOrDigit(s[i]) || s[i] == '_'))
                {
                    i++;
                }

                tokens.Add(new Token(Kind.Name, s[start..i]));
            }
            else if (char.IsAsciiDigit(c) || (c == '-' && i + 1 < s.Length && char.IsAsciiDigit(s[i + 1])))
            {
                var start = i++;
                while (i < s.Length && (char.IsAsciiDigit(s[i]) || s[i] == '.'))
                {
                    i++;
                }

                tokens.Add(new Token(Kind.Number, s[start..i].Split('.')[0]));
            }
            else if (c is '\'' or '"')
            {
                var triple = i + 2 < s.Length && s[i + 1] == c && s[i + 2] == c;
                var (value, end) = ReadString(s, i, c, triple);
                tokens.Add(new Token(Kind.String, s[i..end], value));
                i = end;
            }
            else if (c is '=' or '!' && i + 1 < s.Length && s[i + 1] == '=')
            {
                tokens.Add(new Token(Kind.Op, s.Substring(i, 2)));
                i += 2;
            }
            else
            {
                tokens.Add(new Token(Kind.Punct, c.ToString()));
                i++;
            }
        }

        return tokens;
    }

    private static (string Value, int End) ReadString(string s, int start, char quote, bool triple)
    {
        var sb = new StringBuilder();
        var i = start + (triple ? 3 : 1);
        while (i < s.Length)
        {
            if (triple ? string.CompareOrdinal(s, i, new string(quote, 3), 0, 3) == 0 : s[i] == quote)
            {
                return (sb.ToString(), i + (triple ? 3 : 1));
            }

            if (s[i] == '\\' && i + 1 < s.Length)
            {
                var e = s[i + 1];
                switch (e)
                {
                    case 'x':
                        sb.Append((char)Convert.ToInt32(s.Substring(i + 2, 2), 16));
                        i += 4;
                        continue;
                    case 'u':
                        sb.Append((char)Convert.ToInt32(s.Substring(i + 2, 4), 16));
                        i += 6;
                        continue;
                    case 'U':
                        sb.Append(char.ConvertFromUtf32(Convert.ToInt32(s.Substring(i + 2, 8), 16)));
                        i += 10;
                        continue;
                    case 'n':
                        sb.Append('\n');
                        break;
                    case 't':
                        sb.Append('\t');
                        break;
                    case 'r':
                        sb.Append('\r');
                        break;
                    default:
                        sb.Append(e);
                        break;
                }

                i += 2;
                continue;
            }

            sb.Append(s[i++]);
        }

        throw new FormatException("unterminated string");
    }
}
