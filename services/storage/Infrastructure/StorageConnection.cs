namespace Finstage.Storage.Infrastructure;

/// <summary>The news database's connection strings: one pool for ingest (and the readiness probe), one for the read API.</summary>
public sealed class StorageConnection
{
    /// <summary>Ingest's pool: <c>ConnectionStrings:Storage</c> with the settings of <see cref="DatabaseOptions"/>.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>The read API's pool: the same database with the size and timeouts of <see cref="ReadOptions"/>.</summary>
    public string? ReadConnectionString { get; set; }
}
