using System.Globalization;
using Finstage.Storage.Reading;

namespace Finstage.Storage.Apis;

/// <summary>Reads and checks the query string of the list endpoints, collecting every problem at once.</summary>
internal sealed class QueryReader
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 200;

    private readonly Dictionary<string, string[]> _errors = new(StringComparer.OrdinalIgnoreCase);

    public IDictionary<string, string[]> Errors => _errors;

    public bool IsValid => _errors.Count == 0;

    public string? Text(string name, string? value, int maxLength)
    {
        if (value is null)
        {
            return null;
        }
        value = value.Trim();
        // The database's collation ignores NUL and other controls: "AAPL\0" would match AAPL.
        if (value.Length == 0 || value.Length > maxLength || value.Any(char.IsControl))
        {
            Fail(name, $"'{name}' must be 1 to {maxLength} characters long, without control characters.");
            return null;
        }
        return value;
    }

    public int Limit(string? value, string name = "limit", int byDefault = DefaultLimit)
    {
        if (value is null)
        {
            return byDefault;
        }
        // Digits only: .NET's parser also takes "5\0" for 5.
        if (!value.All(char.IsAsciiDigit) || !int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var limit)
            || limit is < 1 or > MaxLimit)
        {
            Fail(name, $"'{name}' must be a whole number from 1 to {MaxLimit}.");
            return byDefault;
        }
        return limit;
    }

    public DateTime? Time(string name, string? value)
    {
        if (value is null)
        {
            return null;
        }
        if (value.Any(char.IsControl)
            || !DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AllowWhiteSpaces, out var time))
        {
            Fail(name, $"'{name}' must be an ISO 8601 date or time, such as 2026-08-14 or 2026-08-14T07:54:20Z.");
            return null;
        }
        return time.UtcDateTime;
    }

    public PageCursor? Cursor(string? value, Func<string, bool> isValidKey)
    {
        if (value is null)
        {
            return null;
        }
        if (!PageCursor.TryDecode(value, out var cursor) || !isValidKey(cursor!.Key))
        {
            Fail("cursor", "'cursor' is not one this API handed out; pass the nextCursor of the previous page unchanged.");
            return null;
        }
        return cursor;
    }

    public T? Enum<T>(string name, string? value)
        where T : struct, Enum
    {
        if (value is null)
        {
            return null;
        }
        // By name only: Enum.TryParse also takes numbers and "A,B" lists (read as flags).
        var known = System.Enum.GetNames<T>().FirstOrDefault(known => known.Equals(value, StringComparison.OrdinalIgnoreCase));
        if (known is null)
        {
            Fail(name, $"'{name}' must be one of {string.Join(", ", System.Enum.GetNames<T>())}.");
            return null;
        }
        return System.Enum.Parse<T>(known);
    }

    public Guid? Guid(string name, string? value)
    {
        if (value is null)
        {
            return null;
        }
        if (value.Any(char.IsControl) || !System.Guid.TryParse(value, out var id))
        {
            Fail(name, $"'{name}' must be a GUID.");
            return null;
        }
        return id;
    }

    public void Fail(string name, string message) => _errors[name] = [message];
}
