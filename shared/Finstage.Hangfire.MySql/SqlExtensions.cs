using MySqlConnector;

namespace Finstage.Hangfire.MySql;

/// <summary>Small helpers so each query reads as SQL plus its parameters.</summary>
internal static class SqlExtensions
{
    public static MySqlCommand Command(this MySqlConnection connection, string sql, MySqlTransaction? transaction, params (string Name, object? Value)[] parameters)
    {
#pragma warning disable CA2100 // Table names come from Tables (validated prefix); every value is a parameter.
        var command = new MySqlCommand(sql, connection, transaction);
#pragma warning restore CA2100
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        return command;
    }

    public static int Execute(this MySqlConnection connection, string sql, MySqlTransaction? transaction = null, params (string Name, object? Value)[] parameters)
    {
        using var command = connection.Command(sql, transaction, parameters);
        return command.ExecuteNonQuery();
    }

    public static T? Scalar<T>(this MySqlConnection connection, string sql, MySqlTransaction? transaction = null, params (string Name, object? Value)[] parameters)
    {
        using var command = connection.Command(sql, transaction, parameters);
        var value = command.ExecuteScalar();
        if (value is null or DBNull)
        {
            return default;
        }

        var target = Nullable.GetUnderlyingType(typeof(T)) ?? typeof(T);
        return (T)Convert.ChangeType(value, target, System.Globalization.CultureInfo.InvariantCulture);
    }

    public static List<T> Query<T>(this MySqlConnection connection, string sql, Func<MySqlDataReader, T> map, MySqlTransaction? transaction = null, params (string Name, object? Value)[] parameters)
    {
        using var command = connection.Command(sql, transaction, parameters);
        using var reader = command.ExecuteReader();
        var result = new List<T>();
        while (reader.Read())
        {
            result.Add(map(reader));
        }

        return result;
    }

    public static string? NullableString(this MySqlDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    public static DateTime? NullableUtc(this MySqlDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.Utc(ordinal);

    // Every DATETIME column holds UTC; the driver hands them back unspecified.
    public static DateTime Utc(this MySqlDataReader reader, int ordinal) =>
        DateTime.SpecifyKind(reader.GetDateTime(ordinal), DateTimeKind.Utc);

    public static long Microseconds(this TimeSpan value) => value.Ticks / 10;

    /// <summary>Builds "@p0, @p1, …" and the matching parameters for an IN list.</summary>
    public static (string Sql, (string Name, object? Value)[] Parameters) InList(string name, IReadOnlyList<string> values)
    {
        var parameters = values.Select((v, i) => ($"@{name}{i}", (object?)v)).ToArray();
        return (string.Join(", ", parameters.Select(p => p.Item1)), parameters);
    }
}
