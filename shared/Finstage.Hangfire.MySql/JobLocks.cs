namespace Finstage.Hangfire.MySql;

/// <summary>Recognises the lock Hangfire takes around a job's state change: <c>job:{id}:state-lock</c>.</summary>
internal static class JobLocks
{
    private const string Prefix = "job:";
    private const string Suffix = ":state-lock";

    public static long? JobIdOf(string resource) =>
        resource.StartsWith(Prefix, StringComparison.Ordinal) && resource.EndsWith(Suffix, StringComparison.Ordinal)
        && MySqlStorageConnection.TryParseId(resource[Prefix.Length..^Suffix.Length], out var id)
            ? id
            : null;
}
