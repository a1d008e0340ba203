using Finstage.Contracts;
using MassTransit.Serialization;

namespace Finstage.Crawler.Fetching;

/// <summary>
/// Keeps what one crawl publishes within what the bus carries and storage keeps: each text cut to
/// the length storage stores it at (<see cref="FieldLengths"/>, so nothing storage keeps is lost), and the whole message under the bus's body cap.
/// </summary>
/// <remarks>
/// The body cap bounds the feed, not what it describes: an Atom feed's author is copied into every
/// entry, a relative link grows by its base, and "€" in windows-1252 is one byte read but three in
/// UTF-8. A 5 MB feed can so describe gigabytes, and a message over the cap is refused by storage
/// (or, over 16 MiB, by RabbitMQ), which would lose the crawl.
/// </remarks>
internal static class OutgoingArticles
{
    /// <summary>Room for MassTransit's envelope (addresses, headers, trace) around the articles.</summary>
    public const int EnvelopeAllowance = 64 * 1024;

    public static IReadOnlyList<NewsArticle> Fit(IReadOnlyList<NewsArticle> articles)
    {
        List<NewsArticle>? fitted = null;
        for (var i = 0; i < articles.Count; i++)
        {
            var article = articles[i];
            var fit = article with
            {
                Title = FieldLengths.Fit(article.Title, FieldLengths.Title)!,
                Summary = FieldLengths.Fit(article.Summary, FieldLengths.Summary),
                Author = FieldLengths.Fit(article.Author, FieldLengths.Name),
                Publisher = FieldLengths.Fit(article.Publisher, FieldLengths.Name),
                ExternalId = FieldLengths.Fit(article.ExternalId, FieldLengths.ExternalId),
                // A cut URL is a wrong one: an image URL too long to store is dropped. Article URLs are never cut (they are the key).
                ImageUrl = article.ImageUrl is { Length: > FieldLengths.Url } ? null : article.ImageUrl,
            };
            if (fitted is null && !fit.Equals(article))
            {
                fitted = [.. articles.Take(i)];
            }
            fitted?.Add(fit);
        }
        return fitted ?? articles;
    }

    /// <summary>The articles' size as the bus writes them (its own JSON settings), or null once it passes <paramref name="limit"/>.</summary>
    public static long? JsonBytes(IReadOnlyList<NewsArticle> articles, long limit)
    {
        // Every character is at least one byte: past the limit in characters, nothing need be written.
        long characters = 0;
        foreach (var article in articles)
        {
            characters += article.Url.Length + article.Title.Length + (article.Summary?.Length ?? 0) + (article.Author?.Length ?? 0)
                + (article.Publisher?.Length ?? 0) + (article.ImageUrl?.Length ?? 0) + (article.ExternalId?.Length ?? 0);
        }
        if (characters > limit)
        {
            return null;
        }
        using var counter = new CountingStream();
        System.Text.Json.JsonSerializer.Serialize(counter, articles, SystemTextJsonMessageSerializer.Options);
        return counter.Length > limit ? null : counter.Length;
    }

    /// <summary>A stream that only counts what is written to it.</summary>
    private sealed class CountingStream : Stream
    {
        private long _length;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => _length;

        public override long Position { get => _length; set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) => _length += count;

        public override void Write(ReadOnlySpan<byte> buffer) => _length += buffer.Length;

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
