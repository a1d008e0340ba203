namespace Finstage.Hangfire.MySql;

/// <summary>The quoted names of the storage's tables under the configured prefix.</summary>
internal sealed class Tables(string prefix)
{
    public string Prefix { get; } = prefix;
    public string Schema { get; } = Quote(prefix, "schema");
    public string Job { get; } = Quote(prefix, "job");
    public string JobParameter { get; } = Quote(prefix, "job_parameter");
    public string State { get; } = Quote(prefix, "state");
    public string JobQueue { get; } = Quote(prefix, "job_queue");
    public string Server { get; } = Quote(prefix, "server");
    public string Set { get; } = Quote(prefix, "set");
    public string Hash { get; } = Quote(prefix, "hash");
    public string List { get; } = Quote(prefix, "list");
    public string Counter { get; } = Quote(prefix, "counter");
    public string AggregatedCounter { get; } = Quote(prefix, "aggregated_counter");

    public IReadOnlyList<string> All =>
        [Job, JobParameter, State, JobQueue, Server, Set, Hash, List, Counter, AggregatedCounter];

    private static string Quote(string prefix, string name) => $"`{prefix}{name}`";
}
