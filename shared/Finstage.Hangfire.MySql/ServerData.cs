namespace Finstage.Hangfire.MySql;

/// <summary>What a server row's data column holds.</summary>
internal sealed class ServerData
{
    public int WorkerCount { get; set; }
    public string[]? Queues { get; set; }
    public DateTime? StartedAt { get; set; }
}
