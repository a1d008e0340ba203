using System.Collections.Concurrent;
using MySqlConnector;

namespace Finstage.Storage.Writing;

/// <summary>
/// Adds command parameters with their MySQL type already set. MySqlConnector infers a parameter's type from its value
/// on every <c>Value</c> assignment, and the inference walks a dictionary of all types; for the thousands of parameters
/// of a multi-row upsert that walk was more than half of the ingest consumer's CPU (docs/performance.md, p4).
/// Each CLR type is inferred once here, by the driver itself, so the values are sent exactly as before.
/// </summary>
public static class TypedParameters
{
    private static readonly ConcurrentDictionary<Type, MySqlDbType> s_types = new();

    public static void AddTyped(this MySqlParameterCollection parameters, string name, object? value)
    {
        var parameter = new MySqlParameter { ParameterName = name };
        if (value is null or DBNull)
        {
            parameter.Value = DBNull.Value;
        }
        else
        {
            parameter.MySqlDbType = s_types.GetOrAdd(value.GetType(), static (_, sample) => new MySqlParameter { Value = sample }.MySqlDbType, value);
            parameter.Value = value;
        }

        parameters.Add(parameter);
    }
}
