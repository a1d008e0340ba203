using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.WebUtilities;

namespace Finstage.Storage.Reading;

/// <summary>A keyset position in a newest-first list: the sort time and key of the last item shown.</summary>
public sealed record PageCursor(DateTime At, string Key)
{
    public string Encode() =>
        WebEncoders.Base64UrlEncode(Encoding.UTF8.GetBytes(
            At.Ticks.ToString(CultureInfo.InvariantCulture) + "|" + Key));

    public static bool TryDecode(string text, out PageCursor? cursor)
    {
        cursor = null;
        try
        {
            var parts = Encoding.UTF8.GetString(WebEncoders.Base64UrlDecode(text)).Split('|');
            if (parts.Length == 2 && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
                && ticks >= DateTime.MinValue.Ticks && ticks <= DateTime.MaxValue.Ticks && parts[1].Length is > 0 and <= 64)
            {
                cursor = new PageCursor(new DateTime(ticks, DateTimeKind.Utc), parts[1]);
                return true;
            }
        }
        catch (FormatException)
        {
        }
        return false;
    }
}
