using System.Text;

namespace Finstage.FeedServer.Feeds;

/// <summary>A small pseudo-random sequence that depends only on its seed, on every machine and .NET version.</summary>
/// <remarks><see cref="Random"/> with a seed is stable too, but only by convention of one implementation; this is
/// SplitMix64, a dozen lines whose output is fixed here, seeded from FNV-1a so strings can be seeds.</remarks>
internal struct StableRandom(ulong seed)
{
    private ulong _state = seed;

    public static StableRandom For(params ReadOnlySpan<string> parts) => new(Hash(parts));

    public static ulong Hash(params ReadOnlySpan<string> parts)
    {
        const ulong offset = 14695981039346656037, prime = 1099511628211;
        var hash = offset;
        foreach (var part in parts)
        {
            foreach (var b in Encoding.UTF8.GetBytes(part))
            {
                hash = (hash ^ b) * prime;
            }
            // A separator, so ("ab", "c") and ("a", "bc") differ.
            hash = (hash ^ 0xFF) * prime;
        }
        return hash;
    }

    public ulong NextUInt64()
    {
        var z = _state += 0x9E3779B97F4A7C15;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
        return z ^ (z >> 31);
    }

    /// <summary>An integer in [min, max).</summary>
    public int Next(int min, int max) => min + (int)(NextUInt64() % (ulong)(max - min));

    public T Pick<T>(IReadOnlyList<T> choices) => choices[Next(0, choices.Count)];
}
