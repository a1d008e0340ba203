using System.Globalization;

namespace Finstage.Storage.Stream;

/// <summary>
/// Where an article stands in the stream: the <see cref="Contracts.ArticlesStored.Sequence"/> of the event that
/// carried it and its index in that event's articles, written <c>{sequence}-{index}</c> as the SSE <c>id:</c>.
/// The same on every storage instance, since every instance receives the same events.
/// </summary>
public readonly record struct StreamPosition(long Sequence, int Index) : IComparable<StreamPosition>
{
    public int CompareTo(StreamPosition other) =>
        Sequence != other.Sequence ? Sequence.CompareTo(other.Sequence) : Index.CompareTo(other.Index);

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Sequence}-{Index}");

    /// <summary>Reads an id this stream gave out; anything else (empty, too long, not two non-negative numbers) is no position.</summary>
    public static bool TryParse(string? text, out StreamPosition position)
    {
        position = default;
        if (string.IsNullOrEmpty(text) || text.Length > 40)
        {
            return false;
        }
        var dash = text.IndexOf('-', StringComparison.Ordinal);
        if (dash <= 0
            || !long.TryParse(text.AsSpan(0, dash), NumberStyles.None, CultureInfo.InvariantCulture, out var sequence)
            || !int.TryParse(text.AsSpan(dash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var index))
        {
            return false;
        }
        position = new StreamPosition(sequence, index);
        return true;
    }

    public static bool operator <(StreamPosition left, StreamPosition right) => left.CompareTo(right) < 0;

    public static bool operator >(StreamPosition left, StreamPosition right) => left.CompareTo(right) > 0;

    public static bool operator <=(StreamPosition left, StreamPosition right) => left.CompareTo(right) <= 0;

    public static bool operator >=(StreamPosition left, StreamPosition right) => left.CompareTo(right) >= 0;
}
