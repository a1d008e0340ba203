using System.Net.Sockets;
using MySqlConnector;

namespace Finstage.Storage.Infrastructure;

/// <summary>
/// Replaces pooled connections the server has closed, for the write path's and the read API's pools alike.
/// </summary>
public static class LostConnections
{
    /// <summary>
    /// Runs <paramref name="scope"/>, and once more on a new connection if its connection turned out lost. The pool
    /// does not check a connection it hands out (Database:ValidateOnCheckout is off: that check is a round trip per
    /// checkout), so a connection the server closed fails its first command. When one has, the others in the pool are
    /// from before the same restart or network cut: clear them all, then run again. Scopes are repeatable (reads, and
    /// units of work that roll back or were never committed), as the execution strategy already requires.
    /// </summary>
    public static async Task<T> RunOnNewConnectionIfLostAsync<T>(string pool, Func<Task<T>> scope)
    {
        ArgumentNullException.ThrowIfNull(scope);
        try
        {
            return await scope();
        }
        catch (Exception error) when (IsConnectionLost(error))
        {
            await using (var pooled = new MySqlConnection(pool))
            {
                await MySqlConnection.ClearPoolAsync(pooled, CancellationToken.None);
            }
            return await scope();
        }
    }

    /// <summary>
    /// The connection broke under a command (end of stream, reset), as opposed to an SQL error or a
    /// refused connect. MySqlConnector throws the I/O failure bare or inside a <see cref="MySqlException"/>.
    /// </summary>
    internal static bool IsConnectionLost(Exception error) => error switch
    {
        MySqlException { ErrorCode: MySqlErrorCode.UnableToConnectToHost } => false,
        IOException or SocketException => true,
        _ => error.InnerException is { } inner && IsConnectionLost(inner),
    };
}
