using System.Security.Cryptography;
using System.Text;
using Finstage.Contracts;

namespace Finstage.Scheduler.Watchlist;

/// <summary>
/// Which of a crawl's articles an entry has not seen before: a short hash of each URL it saw lately (the newest
/// <see cref="Capacity"/>), kept with the entry. A feed lists its newest items, so an article that falls out of the set
/// has long fallen out of the feed too.
/// </summary>
public static class SeenArticles
{
    /// <summary>Hashes kept per entry; a feed that lists more than this at once counts the oldest as new again.</summary>
    public const int Capacity = 256;

    private const int HashBytes = 8;

    /// <summary>
    /// How many of <paramref name="articles"/> are new to the entry, and the set to keep. The first crawl of an entry has
    /// nothing to compare with: it counts the articles published within one interval before the fetch, as a first
    /// sign of how often the feed changes.
    /// </summary>
    public static (int New, byte[] Seen) Compare(
        byte[]? seen, IReadOnlyList<NewsArticle> articles, bool firstCrawl, TimeSpan interval, DateTimeOffset fetchedAt)
    {
        var known = new HashSet<ulong>();
        for (var offset = 0; seen is not null && offset + HashBytes <= seen.Length; offset += HashBytes)
        {
            known.Add(BitConverter.ToUInt64(seen, offset));
        }
        var current = new List<ulong>();
        var fresh = 0;
        foreach (var article in articles)
        {
            var hash = Hash(article.Url);
            if (current.Contains(hash))
            {
                continue;
            }
            current.Add(hash);
            if (firstCrawl ? article.PublishedAt >= fetchedAt - interval : !known.Contains(hash))
            {
                fresh++;
            }
        }
        // The feed's own items first, then what was seen before, newest kept.
        var kept = current.Concat(known.Where(hash => !current.Contains(hash))).Take(Capacity).ToList();
        var bytes = new byte[kept.Count * HashBytes];
        for (var i = 0; i < kept.Count; i++)
        {
            BitConverter.TryWriteBytes(bytes.AsSpan(i * HashBytes), kept[i]);
        }
        // The set is read back in the order it was written: the feed's current items first.
        return (fresh, bytes);
    }

    private static ulong Hash(string url)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(url.Trim()), hash);
        return BitConverter.ToUInt64(hash);
    }
}
