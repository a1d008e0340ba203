namespace Finstage.Storage.Writing;

/// <summary>
/// Splits items, in order, into groups under a bound on their summed size and on their count: a group closes before the
/// item that would take it past either. An item larger than the size bound by itself goes in a group of its own.
/// </summary>
internal static class SizeBounded
{
    public static IEnumerable<List<T>> Groups<T>(IEnumerable<T> items, Func<T, long> sizeOf, long maxSize, int maxCount = int.MaxValue)
    {
        var group = new List<T>();
        long size = 0;
        foreach (var item in items)
        {
            var itemSize = sizeOf(item);
            if (group.Count == maxCount || (group.Count > 0 && size + itemSize > maxSize))
            {
                yield return group;
                group = [];
                size = 0;
            }
            group.Add(item);
            size += itemSize;
        }
        if (group.Count > 0)
        {
            yield return group;
        }
    }
}
