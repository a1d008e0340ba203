using System.Security.Cryptography;
using System.Text;

namespace Finstage.Storage.Infrastructure;

/// <summary>
/// An article's identity: the first 16 bytes of SHA-256 over its canonical URL. 128 bits keep
/// collisions out of reach for any realistic archive while halving the key every index carries.
/// </summary>
public static class ArticleId
{
    public const int Length = 16;

    public static byte[] FromUrl(string canonicalUrl)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(canonicalUrl), hash);
        return hash[..Length].ToArray();
    }

    public static string ToHex(byte[] id) => Convert.ToHexStringLower(id);

    public static bool TryParse(string? text, out byte[] id)
    {
        id = [];
        if (text is null || text.Length != Length * 2 || !text.All(char.IsAsciiHexDigit))
        {
            return false;
        }
        id = Convert.FromHexString(text);
        return true;
    }
}
