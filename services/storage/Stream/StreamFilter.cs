namespace Finstage.Storage.Stream;

/// <summary>Which articles one client wants: any of its symbols (none: all) from any of its sources (none: all); any case.</summary>
public sealed class StreamFilter(IReadOnlyCollection<string> symbols, IReadOnlyCollection<string> sources)
{
    private readonly HashSet<string> _symbols = new(symbols, StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<string> _sources = new(sources, StringComparer.OrdinalIgnoreCase);

    public static StreamFilter All { get; } = new([], []);

    internal bool Matches(StreamEntry entry) =>
        (_symbols.Count == 0 || _symbols.Contains(entry.Symbol)) && (_sources.Count == 0 || _sources.Contains(entry.Source));
}
