using System.ComponentModel.DataAnnotations;

namespace Finstage.Storage.Consumers;

/// <summary>How crawl results are taken off the queue and grouped into write transactions.</summary>
public sealed class IngestOptions
{
    public const string SectionName = "Ingest";

    /// <summary>Crawl results written in one transaction at most.</summary>
    [Range(1, 1000)]
    public int BatchSize { get; set; } = 100;

    /// <summary>How long a partial batch waits for more messages before it is written anyway.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:00:30")]
    public TimeSpan BatchTimeLimit { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Batches written at the same time.</summary>
    [Range(1, 64)]
    public int ConcurrentBatches { get; set; } = 2;

    /// <summary>In-memory retries of a batch or failure record that failed for any other reason than a database outage.</summary>
    [Range(0, 20)]
    public int RetryLimit { get; set; } = 5;

    /// <summary>The first retry's pause; each next one doubles, with jitter from MassTransit.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:00:10")]
    public TimeSpan RetryInterval { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// Retries of a batch or failure record while the database is away (refusing, dropping or
    /// shutting down connections). Each retry first spends the database's own retries
    /// (<c>Database:MaxRetryCount</c>, about 14 s by default) and then waits <see cref="OutageRetryInterval"/>:
    /// the defaults ride out an outage of about six minutes before a message goes to the error queue.
    /// </summary>
    [Range(0, 100)]
    public int OutageRetryLimit { get; set; } = 20;

    /// <summary>The pause between two retries while the database is away.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:05:00")]
    public TimeSpan OutageRetryInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Messages RabbitMQ hands out before acknowledgement; a batch never exceeds it.</summary>
    public int PrefetchCount => BatchSize * (ConcurrentBatches + 1);
}
