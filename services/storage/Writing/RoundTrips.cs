using MySqlConnector;

namespace Finstage.Storage.Writing;

/// <summary>
/// Groups a transaction's statements, in order, into round trips (<see cref="MySqlBatch"/>es). MySqlConnector sends a
/// batch to MariaDB as one packet of statements, and the server refuses a packet over <c>max_allowed_packet</c>
/// (16 MB by default), so a round trip carries at most <see cref="UpsertStatements.MaxStatementCharacters"/> of SQL and
/// values, the bound one articles statement already keeps (6 MB at 3 UTF-8 bytes a character). A batch of ordinary
/// crawl results fits in one; only results near the body cap take a round trip a statement.
/// </summary>
internal static class RoundTrips
{
    public static IEnumerable<List<MySqlBatchCommand>> Of(IEnumerable<MySqlBatchCommand> commands) =>
        SizeBounded.Groups(commands, Characters, UpsertStatements.MaxStatementCharacters);

    /// <summary>The statement's text and its values as they will be written into it, in characters (bytes as hex).</summary>
    internal static long Characters(MySqlBatchCommand command)
    {
        long characters = command.CommandText?.Length ?? 0;
        foreach (MySqlParameter parameter in command.Parameters)
        {
            characters += parameter.Value switch
            {
                string text => text.Length + 2,
                byte[] bytes => 2L * bytes.Length + 10,
                _ => 32,
            };
        }
        return characters;
    }
}
