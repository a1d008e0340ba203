using System.Net;
using System.Net.Sockets;
using Finstage.Crawler.Sources;
using Microsoft.Extensions.Options;

namespace Finstage.Crawler.Fetching;

/// <summary>
/// Opens every connection of the feed client (<see cref="SocketsHttpHandler.ConnectCallback"/>):
/// resolves the host itself and refuses, before any packet leaves, a host any of whose addresses is
/// blocked (<see cref="BlockedAddresses"/>); otherwise connects to exactly the addresses it checked,
/// so a name that resolves differently a moment later (DNS rebinding) cannot slip past. A configured
/// source's own host and port, and anything when <see cref="FetchOptions.AllowPrivateNetworks"/> is
/// set, are connected to as they are.
/// </summary>
public sealed class GuardedConnector(SourceCatalog sources, IOptions<FetchOptions> options)
{
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var endpoint = context.DnsEndPoint;
        var trusted = options.Value.AllowPrivateNetworks || sources.IsConfiguredEndpoint(endpoint.Host, endpoint.Port);
        var addresses = IPAddress.TryParse(endpoint.Host, out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(endpoint.Host, cancellationToken);
        if (!trusted && addresses.Any(BlockedAddresses.IsBlocked))
        {
            throw new BlockedAddressException(endpoint.Host, endpoint.Port);
        }
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(addresses, endpoint.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}

/// <summary>
/// A connection refused because its host resolves to a blocked address. Its message names no
/// address: it may be shown to whoever wrote the feed that redirected there.
/// </summary>
public sealed class BlockedAddressException(string host, int port)
    : Exception("The target resolves to an address the crawler does not connect to.")
{
    /// <summary>The host as the request named it (for logs of this process, never for a failure detail).</summary>
    public string Host { get; } = host;

    public int Port { get; } = port;

    /// <summary>True when <paramref name="exception"/> or one of its inner exceptions is a refusal of this kind.</summary>
    public static bool IsIn(Exception? exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (current is BlockedAddressException)
            {
                return true;
            }
        }
        return false;
    }
}
