using Hangfire.Common;
using Hangfire.Storage;

namespace Finstage.Hangfire.MySql;

/// <summary>Turns the stored job and state columns back into Hangfire's objects.</summary>
internal static class JobPayload
{
    public static (Job? Job, InvocationData Data, JobLoadException? Error) Load(string payload, string? arguments)
    {
        var invocationData = InvocationData.DeserializePayload(payload);
        if (!string.IsNullOrEmpty(arguments))
        {
            invocationData.Arguments = arguments;
        }

        try
        {
            return (invocationData.DeserializeJob(), invocationData, null);
        }
        catch (JobLoadException ex)
        {
            // The dashboard still shows a job whose type is gone; Hangfire decides what to do with it.
            return (null, invocationData, ex);
        }
    }

    public static Dictionary<string, string> StateData(string? json)
    {
        var data = json is null ? null : SerializationHelper.Deserialize<Dictionary<string, string>>(json);
        return data is null
            ? new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
            : new Dictionary<string, string>(data, StringComparer.OrdinalIgnoreCase);
    }
}
