using System.Globalization;
using System.Text.RegularExpressions;

namespace Finstage.Crawler.Parsing;

/// <summary>Reads the date formats feeds actually use and returns them in UTC.</summary>
/// <remarks>
/// RFC 822/1123 in all its loose variants (any order of day, month and year; no weekday; no seconds;
/// one-digit days; two-digit years; numeric offsets with or without a colon; the common zone abbreviations),
/// asctime-like forms, and ISO 8601 / W3C-DTF. A date with no zone is taken as UTC, which is how Investing.com
/// means its <c>2026-08-14 07:54:20</c>. Abbreviations that mean several zones are read as the most common one
/// in English-language feeds: IST India, CST US Central, BST British Summer, AST Atlantic.
/// </remarks>
public static partial class FeedDates
{
    private static readonly Dictionary<string, int> ZoneMinutes = new(StringComparer.OrdinalIgnoreCase)
    {
        ["UT"] = 0, ["UTC"] = 0, ["GMT"] = 0, ["Z"] = 0, ["WET"] = 0, ["WEST"] = 60, ["BST"] = 60,
        ["IST"] = 330, ["CET"] = 60, ["CEST"] = 120, ["MET"] = 60, ["MEST"] = 120, ["MEZ"] = 60, ["MESZ"] = 120,
        ["EET"] = 120, ["EEST"] = 180, ["MSK"] = 180, ["TRT"] = 180, ["EAT"] = 180, ["WAT"] = 60, ["CAT"] = 120,
        ["SAST"] = 120, ["GST"] = 240, ["PKT"] = 300, ["ICT"] = 420, ["WIB"] = 420, ["HKT"] = 480, ["SGT"] = 480,
        ["PHT"] = 480, ["AWST"] = 480, ["KST"] = 540, ["JST"] = 540, ["ACST"] = 570, ["ACDT"] = 630,
        ["AEST"] = 600, ["AEDT"] = 660, ["NZST"] = 720, ["NZDT"] = 780,
        ["EST"] = -300, ["EDT"] = -240, ["CST"] = -360, ["CDT"] = -300, ["MST"] = -420, ["MDT"] = -360,
        ["PST"] = -480, ["PDT"] = -420, ["AKST"] = -540, ["AKDT"] = -480, ["HST"] = -600, ["HDT"] = -540,
        ["AST"] = -240, ["ADT"] = -180, ["NST"] = -210, ["NDT"] = -150, ["BRT"] = -180, ["ART"] = -180,
    };

    private static readonly string[] Months =
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

    private static readonly HashSet<string> Weekdays = new(StringComparer.OrdinalIgnoreCase)
    {
        "mon", "tue", "tues", "wed", "thu", "thur", "thurs", "fri", "sat", "sun",
        "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
    };

    /// <summary>Longer text is no date; the regular expressions below are never run on it.</summary>
    /// <remarks>The longest real dates, a weekday and month spelled out with a comment naming the zone, are under
    /// 80 characters. <c>\([^)]*\)</c> over a run of '(' costs the square of its length.</remarks>
    public const int MaxLength = 256;

    /// <summary>The instant the text names, in UTC, or null when it is not a date this reader knows.</summary>
    public static DateTimeOffset? Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text) || text.Length > MaxLength)
        {
            return null;
        }

        var cleaned = Comment().Replace(text, " ").Trim();
        return ParseIso(cleaned) ?? ParseRfc822(cleaned);
    }

    private static DateTimeOffset? ParseIso(string text)
    {
        var m = Iso().Match(text);
        if (!m.Success)
        {
            return null;
        }

        var year = Int(m.Groups["y"].Value);
        var month = m.Groups["mo"].Success ? Int(m.Groups["mo"].Value) : 1;
        var day = m.Groups["d"].Success ? Int(m.Groups["d"].Value) : 1;
        var hour = m.Groups["h"].Success ? Int(m.Groups["h"].Value) : 0;
        var minute = m.Groups["mi"].Success ? Int(m.Groups["mi"].Value) : 0;
        var second = m.Groups["s"].Success ? Int(m.Groups["s"].Value) : 0;
        var ticks = m.Groups["f"].Success ? FractionTicks(m.Groups["f"].Value) : 0;
        int? offset = m.Groups["z"].Success ? ZoneOffset(m.Groups["z"].Value) : 0;
        return offset is null ? null : Build(year, month, day, hour, minute, second, ticks, offset.Value);
    }

    private static DateTimeOffset? ParseRfc822(string text)
    {
        int? day = null, month = null, year = null, zone = null;
        int hour = 0, minute = 0, second = 0;
        long ticks = 0;
        var sawTime = false;

        foreach (var raw in Separators().Split(text))
        {
            if (raw.Length == 0)
            {
                continue;
            }

            var token = raw;
            if (Time().Match(token) is { Success: true } time)
            {
                if (sawTime)
                {
                    return null;
                }

                sawTime = true;
                hour = Int(time.Groups["h"].Value);
                minute = Int(time.Groups["mi"].Value);
                second = time.Groups["s"].Success ? Int(time.Groups["s"].Value) : 0;
                ticks = time.Groups["f"].Success ? FractionTicks(time.Groups["f"].Value) : 0;
                if (time.Groups["z"].Success)
                {
                    zone = ZoneOffset(time.Groups["z"].Value);
                    if (zone is null)
                    {
                        return null;
                    }
                }

                continue;
            }

            if (char.IsAsciiDigit(token[0]))
            {
                if (!int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
                {
                    return null;
                }

                if (token.Length >= 3 || day is not null)
                {
                    if (year is not null)
                    {
                        return null;
                    }

                    year = token.Length <= 2 ? (number < 50 ? 2000 + number : 1900 + number) : number;
                }
                else
                {
                    day = number;
                }

                continue;
            }

            if (token[0] is '+' or '-' || ZoneMinutes.ContainsKey(token) || GmtOffset().IsMatch(token))
            {
                zone = ZoneOffset(token);
                if (zone is null)
                {
                    return null;
                }

                continue;
            }

            if (token.Length >= 3 && Array.IndexOf(Months, token[..3].ToLowerInvariant()) is var index and >= 0
                && !Weekdays.Contains(token))
            {
                month = index + 1;
                continue;
            }

            if (Weekdays.Contains(token) || token.Equals("at", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            // An unknown word: a military zone letter or a zone name this table lacks. Neither is worth
            // refusing a date over, and UTC is the documented assumption for zone-less dates.
            if (token.Length <= 5 && token.All(char.IsAsciiLetter) && zone is null)
            {
                continue;
            }

            return null;
        }

        return day is null || month is null || year is null
            ? null
            : Build(year.Value, month.Value, day.Value, hour, minute, second, ticks, zone ?? 0);
    }

    private static int? ZoneOffset(string zone)
    {
        if (ZoneMinutes.TryGetValue(zone, out var named))
        {
            return named;
        }

        var m = GmtOffset().Match(zone);
        if (!m.Success)
        {
            return null;
        }

        var sign = m.Groups["sign"].Value == "-" ? -1 : 1;
        var digits = m.Groups["hh"].Value + m.Groups["mm"].Value;
        var (hours, minutes) = digits.Length switch
        {
            1 or 2 => (Int(digits), 0),
            3 => (Int(digits[..1]), Int(digits[1..])),
            4 => (Int(digits[..2]), Int(digits[2..])),
            _ => (99, 0),
        };
        return hours > 14 || minutes > 59 ? null : sign * ((hours * 60) + minutes);
    }

    private static DateTimeOffset? Build(int year, int month, int day, int hour, int minute, int second, long ticks, int offsetMinutes)
    {
        if (year is < 1 or > 9999 || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month)
            || hour > 24 || minute > 59 || second > 60)
        {
            return null;
        }

        // 24:00 is the end of the day and a leap second is the last second of the minute; both exist in feeds.
        var extraDay = hour == 24;
        var value = new DateTime(year, month, day, extraDay ? 0 : hour, minute, Math.Min(second, 59), DateTimeKind.Unspecified)
            .AddTicks(ticks)
            .AddDays(extraDay ? 1 : 0);
        try
        {
            return new DateTimeOffset(value, TimeSpan.FromMinutes(offsetMinutes)).ToUniversalTime();
        }
        catch (ArgumentOutOfRangeException)
        {
            return null;
        }
    }

    private static long FractionTicks(string digits)
    {
        var seven = (digits + "0000000")[..7];
        return long.Parse(seven, NumberStyles.None, CultureInfo.InvariantCulture);
    }

    private static int Int(string digits) => int.Parse(digits, NumberStyles.None, CultureInfo.InvariantCulture);

    [GeneratedRegex(@"\([^)]*\)")]
    private static partial Regex Comment();

    [GeneratedRegex(@"[\s,]+")]
    private static partial Regex Separators();

    [GeneratedRegex(@"^(?<y>\d{4})(?:-?(?<mo>\d{2})(?:-?(?<d>\d{2})(?:(?:T|t|\s+)(?<h>\d{2}):?(?<mi>\d{2})(?::?(?<s>\d{2})(?:[.,](?<f>\d+))?)?)?)?)?\s*(?<z>Z|z|[+-]\d{2}(?::?\d{2})?|(?:UTC|GMT|UT)(?:[+-]\d{1,2}(?::?\d{2})?)?|[A-Za-z]{2,5})?$")]
    private static partial Regex Iso();

    [GeneratedRegex(@"^(?<h>\d{1,2}):(?<mi>\d{2})(?::(?<s>\d{2})(?:\.(?<f>\d+))?)?(?<z>Z|[A-Za-z]{2,5}|[+-]\d{2}:?\d{2})?$")]
    private static partial Regex Time();

    [GeneratedRegex(@"^(?:(?:GMT|UTC|UT)(?=[+-]))?(?<sign>[+-])(?<hh>\d{1,2})(?::?(?<mm>\d{2}))?$", RegexOptions.IgnoreCase)]
    private static partial Regex GmtOffset();
}
