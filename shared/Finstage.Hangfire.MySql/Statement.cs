using MySqlConnector;

namespace Finstage.Hangfire.MySql;

/// <summary>One SQL statement and its parameter values, kept as data so that a retried transaction can send it again.</summary>
internal sealed class Statement(string sql, params (string Name, object? Value)[] parameters)
{
    public string Sql { get; } = sql;

    public IReadOnlyList<(string Name, object? Value)> Parameters { get; } = parameters;

    public MySqlBatchCommand ToBatchCommand()
    {
#pragma warning disable CA2100 // Table names come from Tables (validated prefix); every value is a parameter.
        var command = new MySqlBatchCommand(Sql);
#pragma warning restore CA2100
        foreach (var (name, value) in Parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        return command;
    }
}
