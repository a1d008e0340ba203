namespace Finstage.Scheduler;

/// <summary>The connection string of Hangfire's MySQL database.</summary>
public sealed class HangfireConnection
{
    public string? ConnectionString { get; set; }
}
