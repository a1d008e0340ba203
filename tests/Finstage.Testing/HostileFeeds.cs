using System.IO.Compression;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Finstage.Testing;

/// <summary>
/// Hostile and broken feeds as a feed site would serve them: the documents, and the ways of
/// answering (endless, dripping, compressed) that no document captures. The crawler's parser
/// tests, its fetch tests and the reliability battery all use these same inputs.
/// </summary>
public static class HostileFeeds
{
    public const int Megabyte = 1024 * 1024;

    private static readonly Lazy<byte[]> GzipMember = new(() =>
    {
        using var compressed = new MemoryStream();
        using (var gzip = new GZipStream(compressed, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            var zeros = new byte[Megabyte];
            for (var i = 0; i < 16; i++)
            {
                gzip.Write(zeros);
            }
        }
        return compressed.ToArray();
    });

    /// <summary>
    /// An RSS feed whose DTD declares an external entity (its value would be the file or URL
    /// <paramref name="target"/>) beside a harmless internal one.
    /// </summary>
    public static byte[] ExternalEntity(string target) => Utf8($"""
        <?xml version="1.0"?>
        <!DOCTYPE rss [
          <!ENTITY secret SYSTEM "{target}">
          <!ENTITY brand "Example Wire">
        ]>
        <rss version="2.0"><channel><title>&brand; feed</title>
        <item><title>Leak: &secret;</title><link>https://xxe.example.com/1</link></item>
        </channel></rss>
        """);

    /// <summary>Nested entities that would expand to 10⁹ "lol"s (3 GB) in a parser that expands them.</summary>
    public static byte[] BillionLaughs { get; } = Utf8("""
        <?xml version="1.0"?>
        <!DOCTYPE rss [
          <!ENTITY lol "lol">
          <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
          <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
          <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
          <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
          <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
          <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
          <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
          <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
          <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
        ]>
        <rss version="2.0"><channel><title>&lol9;</title>
        <item><title>&lol9;</title><link>https://laughs.example.com/1</link></item>
        </channel></rss>
        """);

    /// <summary>A web page where a feed was expected (a moved feed URL often answers with one).</summary>
    public static byte[] HtmlPage { get; } = Utf8("""
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>Markets | Example News</title>
        <link rel="alternate" type="application/rss+xml" href="/rss/markets.xml"></head>
        <body><h1>Markets</h1><p>Stocks rose on Friday.</p></body></html>
        """);

    /// <summary>A news sitemap: XML with links and dates, but not a feed.</summary>
    public static byte[] Sitemap { get; } = Utf8("""
        <?xml version="1.0" encoding="UTF-8"?>
        <urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
          <url><loc>https://news.example.com/markets/1</loc>
            <news:news><news:publication_date>2026-08-14T07:54:20Z</news:publication_date><news:title>Stocks rise</news:title></news:news></url>
        </urlset>
        """);

    /// <summary>
    /// A feed that declares UTF-8, is UTF-8 throughout ("Café €", "Über “quotes”"), except for one
    /// title holding a Latin-1 byte (0xE9, "é") that is not valid UTF-8.
    /// </summary>
    public static byte[] InvalidInDeclaredEncoding { get; } =
    [
        .. Utf8("""<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Café € news</title>"""),
        .. "<item><title>Stray "u8, 0xE9, .. " byte</title><link>https://encoding.example.com/1</link></item>"u8,
        .. Utf8("<item><title>Über “quotes”</title><link>https://encoding.example.com/2</link></item></channel></rss>"),
    ];

    /// <summary>Titles holding characters XML forbids: a vertical tab, a control byte, a NUL and U+FFFF.</summary>
    public static byte[] ControlCharacters { get; } = Utf8(
        "<rss version=\"2.0\"><channel><title>Controls</title>"
        + "<item><title>Vertical\vtab and \u0001control</title><link>https://controls.example.com/1</link></item>"
        + "<item><title>NUL\0 and \uFFFF here</title><link>https://controls.example.com/2</link></item>"
        + "<item><title>Clean</title><link>https://controls.example.com/3</link></item></channel></rss>");

    /// <summary>A well-formed feed of one item whose title alone is about <paramref name="titleBytes"/> long.</summary>
    public static byte[] SingleTitle(int titleBytes)
    {
        const string words = "Markets rally as yields fall; ";
        var title = new StringBuilder(titleBytes + words.Length);
        while (title.Length < titleBytes)
        {
            title.Append(words);
        }
        return Utf8($"<rss version=\"2.0\"><channel><title>One long title</title><item><title>{title}</title>"
            + "<link>https://long.example.com/1</link></item></channel></rss>");
    }

    /// <summary>
    /// An Atom feed whose feed-level author (<paramref name="authorCharacters"/> long) every one of its
    /// <paramref name="entries"/> small entries inherits: a small document that describes author × entries.
    /// </summary>
    public static byte[] AtomInheritedAuthor(int authorCharacters, int entries)
    {
        var feed = new StringBuilder("<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>Amplified</title><author><name>");
        feed.Append('A', authorCharacters).Append("</name></author>");
        for (var i = 0; i < entries; i++)
        {
            feed.Append(System.Globalization.CultureInfo.InvariantCulture, $"<entry><title>E{i}</title><link href=\"https://author.example.com/{i}\"/></entry>");
        }
        return Utf8(feed.Append("</feed>").ToString());
    }

    /// <summary>An Atom feed whose xml:base is <paramref name="baseCharacters"/> long and whose <paramref name="entries"/> links are relative to it.</summary>
    public static byte[] AtomLongBase(int baseCharacters, int entries)
    {
        var feed = new StringBuilder("<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:base=\"https://base.example.com/");
        feed.Append('b', baseCharacters).Append("/\"><title>Based</title>");
        for (var i = 0; i < entries; i++)
        {
            feed.Append(System.Globalization.CultureInfo.InvariantCulture, $"<entry><title>E{i}</title><link href=\"{i}\"/></entry>");
        }
        return Utf8(feed.Append("</feed>").ToString());
    }

    /// <summary>
    /// A windows-1252 feed of <paramref name="items"/> items, each with a summary of
    /// <paramref name="bytesEach"/> bytes 0x80: as many "€" characters, three UTF-8 bytes each once read.
    /// </summary>
    public static byte[] LongSummaries(int items, int bytesEach)
    {
        using var document = new MemoryStream();
        document.Write("<?xml version=\"1.0\" encoding=\"windows-1252\"?><rss version=\"2.0\"><channel><title>Euro</title>"u8);
        for (var i = 1; i <= items; i++)
        {
            document.Write(Encoding.ASCII.GetBytes(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"<item><title>Euro {i}</title><link>https://euro.example.com/{i}</link><description>")));
            document.Write(Enumerable.Repeat((byte)0x80, bytesEach).ToArray());
            document.Write("</description></item>"u8);
        }
        document.Write("</channel></rss>"u8);
        return document.ToArray();
    }

    /// <summary>Just under the crawler's 5 MiB cap: the size of every document of <see cref="Adversarial"/>.</summary>
    public const int AdversarialBytes = 5 * Megabyte - 16 * 1024;

    /// <summary>
    /// The reference for <see cref="Adversarial"/>: an ordinary RSS feed of <see cref="AdversarialBytes"/>,
    /// items with a title, link, escaped-HTML description, date and guid.
    /// </summary>
    public static byte[] BenignFiveMegabytes() => BenignFeed(AdversarialBytes);

    /// <summary>The items of <see cref="BenignFiveMegabytes"/>, as many as make about <paramref name="bytes"/>.</summary>
    public static byte[] BenignFeed(int bytes) => Rss(items =>
    {
        for (var i = 0; items.Length < bytes - 1024; i++)
        {
            items.Append(System.Globalization.CultureInfo.InvariantCulture,
                $"<item><title>Markets rally as yields fall {i}</title><link>https://benign.example.com/markets/{i}</link>");
            items.Append("<description>&lt;p&gt;Stocks rose on Friday &amp;amp; bonds fell; the dollar was &lt;b&gt;steady&lt;/b&gt;.&lt;/p&gt;</description>");
            items.Append(System.Globalization.CultureInfo.InvariantCulture,
                $"<pubDate>Fri, 14 Aug 2026 07:54:20 +0000</pubDate><guid>https://benign.example.com/markets/{i}</guid></item>");
        }
    });

    /// <summary>
    /// The 1.6 million "&lt;a" in one title of issue 12 (3.2 MB), which took a parser that looked for '&gt;' from
    /// every '&lt;' 71 s of CPU.
    /// </summary>
    public static byte[] OpenTagsInTitle(int count) => Utf8(
        "<rss version=\"2.0\"><channel><title>" + string.Concat(Enumerable.Repeat("<a", count)) + "</title></channel></rss>");

    /// <summary>
    /// Documents of <see cref="AdversarialBytes"/> each built so that a parser which looks ahead or back from
    /// every character of some kind does it millions of times: open tags, nesting, attributes, prefixes,
    /// dates, entities and references, escaped HTML, comments, CDATA and declarations. Built on demand.
    /// </summary>
    public static IReadOnlyList<(string Name, Func<byte[]> Build)> Adversarial { get; } =
    [
        ("open-tags-in-title", () => Rss(items => items.Append("<item><title>").Repeat("<a", Room(items)).Append("</title></item>"))),
        ("unclosed-nesting", () => Rss(items => Item(items).Repeat("<d>", Room(items)).Append("</item>"))),
        ("deep-nesting", () => Rss(items =>
        {
            var depth = (AdversarialBytes - items.Length - 1024) / 7;
            Item(items).Repeat("<d>", 3 * depth).Repeat("</d>", 4 * depth).Append("</item>");
        })),
        ("attribute-flood", () => Rss(items =>
        {
            items.Append("<item");
            for (var i = 0; items.Length < AdversarialBytes - 1024; i++)
            {
                items.Append(System.Globalization.CultureInfo.InvariantCulture, $" a{i}=\"v\"");
            }
            items.Append("><title>x</title><link>https://adversarial.example.com/1</link></item>");
        })),
        ("attributes-on-many-elements", () => Rss(items =>
        {
            Item(items);
            for (var i = 0; items.Length < AdversarialBytes - 1024; i++)
            {
                items.Append("<x");
                for (var a = 0; a < 1000; a++)
                {
                    items.Append(System.Globalization.CultureInfo.InvariantCulture, $" a{i}_{a}=\"v\"");
                }
                items.Append("/>");
            }
            items.Append("</item>");
        })),
        ("undeclared-prefixes", () => Rss(items =>
        {
            Item(items);
            for (var i = 0; items.Length < AdversarialBytes - 1024; i++)
            {
                items.Append(System.Globalization.CultureInfo.InvariantCulture, $"<p{i}:x/>");
            }
            items.Append("</item>");
        })),
        ("date-open-parentheses", () => Rss(items => Item(items).Append("<pubDate>").Repeat("(", Room(items)).Append("</pubDate></item>"))),
        ("date-open-quotes", () => Rss(items => Item(items).Append("<pubDate>").Repeat("\"(a ", Room(items)).Append("</pubDate></item>"))),
        ("undefined-entities", () => Rss(items =>
        {
            items.Append("<item><title>");
            for (var i = 0; items.Length < AdversarialBytes - 1024; i++)
            {
                items.Append(System.Globalization.CultureInfo.InvariantCulture, $"&e{i};");
            }
            items.Append("</title><link>https://adversarial.example.com/1</link></item>");
        })),
        ("html-entities", () => Rss(items => items.Append("<item><title>").Repeat("&nbsp;&hellip;", Room(items)).Append("</title><link>https://adversarial.example.com/1</link></item>"))),
        ("ampersands-without-semicolon", () => Rss(items => items.Append("<item><title>").Repeat("&amp;", Room(items)).Append("</title><link>https://adversarial.example.com/1</link></item>"))),
        ("broken-numeric-references", () => Rss(items => items.Append("<item><title>").Repeat("&amp;#", Room(items)).Append(";</title><link>https://adversarial.example.com/1</link></item>"))),
        ("quoted-html-attributes", () => Rss(items => items.Append("<item><title>").Repeat("&lt;a \"=\"", Room(items)).Append("</title><link>https://adversarial.example.com/1</link></item>"))),
        ("open-html-tags", () => Rss(items => items.Append("<item><title>").Repeat("&lt;a ", Room(items)).Append("</title><link>https://adversarial.example.com/1</link></item>"))),
        ("open-html-comments", () => Rss(items => items.Append("<item><title>").Repeat("&lt;!--", Room(items)).Append("</title><link>https://adversarial.example.com/1</link></item>"))),
        ("void-elements-with-quotes", () => Rss(items => Item(items).Append("<description>").Repeat("<img \"", Room(items)).Append("</description></item>"))),
        ("line-breaks", () => Rss(items => Item(items).Append("<description>").Repeat("<br>", Room(items)).Append("</description></item>"))),
        ("doctypes", () => Rss(items => Item(items).Repeat("<!DOCTYPE x>", Room(items)).Append("</item>"))),
        ("open-comments", () => Rss(items => Item(items).Append("<description>").Repeat("<!--", Room(items)).Append("</description></item>"))),
        ("open-cdata", () => Rss(items => Item(items).Append("<description>").Repeat("<![CDATA[", Room(items)).Append("</description></item>"))),
        ("empty-elements", () => Rss(items => Item(items).Repeat("<x/>", Room(items)).Append("</item>"))),
        ("tiny-items", () => Rss(items => items.Repeat("<item><title>x</title><link>https://adversarial.example.com/1</link></item>", Room(items)))),
    ];

    private static byte[] Rss(Action<StringBuilder> items)
    {
        var document = new StringBuilder(AdversarialBytes + 1024);
        document.Append("<?xml version=\"1.0\" encoding=\"utf-8\"?><rss version=\"2.0\"><channel><title>Adversarial</title><link>https://adversarial.example.com/</link>");
        items(document);
        return Utf8(document.Append("</channel></rss>").ToString());
    }

    private static StringBuilder Item(StringBuilder items) =>
        items.Append("<item><title>x</title><link>https://adversarial.example.com/1</link>");

    // The characters left for the flood, with room for the document's end.
    private static int Room(StringBuilder document) => AdversarialBytes - 1024 - document.Length;

    // Appends as many whole units as fit in 'characters'.
    private static StringBuilder Repeat(this StringBuilder builder, string unit, int characters)
    {
        for (var i = 0; i < characters / unit.Length; i++)
        {
            builder.Append(unit);
        }
        return builder;
    }

    /// <summary>
    /// Answers with a well-formed RSS stream of <paramref name="totalBytes"/> (items, 64 KB at a
    /// time), with or without announcing its length, until the client hangs up.
    /// </summary>
    /// <returns>The bytes written before the client hung up (or all of them).</returns>
    public static async Task<long> ServeLongBodyAsync(HttpContext context, long totalBytes, bool announceLength)
    {
        context.Response.ContentType = "application/rss+xml; charset=utf-8";
        if (announceLength)
        {
            context.Response.ContentLength = totalBytes;
        }
        var head = Utf8("<?xml version=\"1.0\" encoding=\"utf-8\"?><rss version=\"2.0\"><channel><title>Endless</title>");
        var item = new StringBuilder();
        for (var i = 0; item.Length < 64 * 1024; i++)
        {
            item.Append(System.Globalization.CultureInfo.InvariantCulture, $"<item><title>Story {i}</title><link>https://endless.example.com/{i}</link></item>");
        }
        var chunk = Utf8(item.ToString());
        long written = 0;
        try
        {
            await context.Response.Body.WriteAsync(head, context.RequestAborted);
            written += head.Length;
            while (written < totalBytes && !context.RequestAborted.IsCancellationRequested)
            {
                var size = (int)Math.Min(chunk.Length, totalBytes - written);
                await context.Response.Body.WriteAsync(chunk.AsMemory(0, size), context.RequestAborted);
                written += size;
                // Kestrel signals a client that hung up on the thread pool, and writes into the closed
                // connection meanwhile succeed: without a pause a busy machine lets this loop count
                // the whole body as written before it hears. 64 KB every 5 ms is still 12 MB/s.
                await Task.Delay(5, context.RequestAborted);
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or IOException)
        {
            // The client hung up: what this proves.
        }
        return written;
    }

    /// <summary>Sends the headers at once, then the start of a feed one byte every <paramref name="interval"/>, for hours.</summary>
    public static async Task DripAsync(HttpContext context, TimeSpan interval)
    {
        context.Response.ContentType = "application/rss+xml; charset=utf-8";
        var body = Utf8("<?xml version=\"1.0\" encoding=\"utf-8\"?><rss version=\"2.0\"><channel><title>"
            + new string('.', 100_000));
        try
        {
            await context.Response.StartAsync(context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
            foreach (var b in body)
            {
                await context.Response.Body.WriteAsync(new[] { b }, context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);
                await Task.Delay(interval, context.RequestAborted);
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or IOException)
        {
        }
    }

    /// <summary>
    /// A gzip-encoded answer that expands to <paramref name="expandedBytes"/> of zeros (a multiple
    /// of 16 MB) from about 1/1000 of that on the wire: concatenated gzip members, which HTTP
    /// clients decompress one after another.
    /// </summary>
    public static async Task GzipBombAsync(HttpContext context, long expandedBytes)
    {
        var member = GzipMember.Value;
        var members = expandedBytes / (16L * Megabyte);
        context.Response.Headers.ContentEncoding = "gzip";
        context.Response.ContentType = "application/rss+xml";
        context.Response.ContentLength = members * member.Length;
        try
        {
            for (var i = 0; i < members && !context.RequestAborted.IsCancellationRequested; i++)
            {
                await context.Response.Body.WriteAsync(member, context.RequestAborted);
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or IOException)
        {
        }
    }

    /// <summary>Writes a document with a content type.</summary>
    public static Task WriteAsync(HttpContext context, byte[] document, string contentType)
    {
        context.Response.ContentType = contentType;
        context.Response.ContentLength = document.Length;
        return context.Response.Body.WriteAsync(document, context.RequestAborted).AsTask();
    }

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);
}
