using System.Net;
using System.Net.Sockets;

namespace Finstage.Crawler.Fetching;

/// <summary>
/// The addresses a feed may not lead the crawler to: this host, the private networks around it and
/// addresses that are no one host (IANA's special-purpose registries). Works on parsed addresses
/// only, never on host names: <c>2130706433</c>, <c>0x7f.1</c> and <c>127.1</c> are all 127.0.0.1.
/// </summary>
public static class BlockedAddresses
{
    private static readonly (IPNetwork Network, string Kind)[] Ranges =
    [
        (IPNetwork.Parse("0.0.0.0/8"), "unspecified"),
        (IPNetwork.Parse("10.0.0.0/8"), "private"),
        (IPNetwork.Parse("100.64.0.0/10"), "private"), // carrier-grade NAT
        (IPNetwork.Parse("127.0.0.0/8"), "loopback"),
        (IPNetwork.Parse("169.254.0.0/16"), "link-local"), // cloud metadata at 169.254.169.254
        (IPNetwork.Parse("172.16.0.0/12"), "private"),
        (IPNetwork.Parse("192.0.0.0/24"), "private"), // IETF protocol assignments
        (IPNetwork.Parse("192.168.0.0/16"), "private"),
        (IPNetwork.Parse("198.18.0.0/15"), "private"), // benchmarking
        (IPNetwork.Parse("224.0.0.0/4"), "multicast"),
        (IPNetwork.Parse("240.0.0.0/4"), "reserved"), // and 255.255.255.255
        (IPNetwork.Parse("::/128"), "unspecified"),
        (IPNetwork.Parse("::1/128"), "loopback"),
        (IPNetwork.Parse("::/96"), "reserved"), // the deprecated IPv4-compatible form ::a.b.c.d
        (IPNetwork.Parse("64:ff9b:1::/48"), "private"), // local-use IPv4/IPv6 translation
        (IPNetwork.Parse("fc00::/7"), "private"), // unique local
        (IPNetwork.Parse("fe80::/10"), "link-local"),
        (IPNetwork.Parse("fec0::/10"), "private"), // the deprecated site-local
        (IPNetwork.Parse("ff00::/8"), "multicast"),
    ];

    private static readonly IPNetwork Nat64 = IPNetwork.Parse("64:ff9b::/96");

    /// <summary>What kind of blocked address <paramref name="address"/> is (loopback, private, …), or null when it may be connected to.</summary>
    public static string? KindOf(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        // ::ffff:127.0.0.1 is 127.0.0.1 on the wire, and a NAT64 gateway turns 64:ff9b::a00:1 into 10.0.0.1.
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        else if (address.AddressFamily == AddressFamily.InterNetworkV6 && Nat64.Contains(address))
        {
            address = new IPAddress(address.GetAddressBytes().AsSpan(12, 4));
        }
        foreach (var (network, kind) in Ranges)
        {
            if (network.Contains(address))
            {
                return kind;
            }
        }
        return null;
    }

    /// <summary>True when the crawler must not connect to <paramref name="address"/>.</summary>
    public static bool IsBlocked(IPAddress address) => KindOf(address) is not null;
}
