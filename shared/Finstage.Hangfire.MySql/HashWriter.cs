namespace Finstage.Hangfire.MySql;

/// <summary>Upserts hash fields in one statement, fields in a fixed order.</summary>
internal static class HashWriter
{
    /// <summary>The statement, or null when there is nothing to write.</summary>
    public static Statement? Upsert(Tables tables, string key, IReadOnlyList<KeyValuePair<string, string?>> pairs)
    {
        if (pairs.Count == 0)
        {
            return null;
        }

        // Sorted so that two writers of one hash lock its rows in the same order.
        var ordered = pairs.GroupBy(p => p.Key, StringComparer.Ordinal).Select(g => g.Last()).OrderBy(p => p.Key, StringComparer.Ordinal).ToList();
        var values = string.Join(", ", ordered.Select((_, i) => $"(@key, @f{i}, @v{i})"));
        var parameters = new List<(string, object?)> { ("@key", key) };
        for (var i = 0; i < ordered.Count; i++)
        {
            parameters.Add(($"@f{i}", ordered[i].Key));
            parameters.Add(($"@v{i}", ordered[i].Value));
        }

        return new Statement($"INSERT INTO {tables.Hash} (`key`, `field`, `value`) VALUES {values} ON DUPLICATE KEY UPDATE `value` = VALUES(`value`)",
            [.. parameters]);
    }
}
