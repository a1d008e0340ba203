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

    /// <summary>
    /// Bytes of crawl results the service holds at once, at most: RabbitMQ counts what it hands out
    /// only in messages, so the queue's prefetch (and with it the batch size and the batches written at
    /// once) is cut until that many results of the largest size the bus accepts (<c>Bus:MaxMessageBytes</c>)
    /// fit in it. Each byte held costs a few more in the process while it is read and written (see
    /// docs/storage.md). 256 MiB: 32 results of 8 MiB.
    /// </summary>
    [Range(1024, long.MaxValue)]
    public long MaxBufferedBytes { get; set; } = 256L * 1024 * 1024;
}

/// <summary>
/// What the store-news-crawled endpoint may hold and write at once, from <see cref="IngestOptions"/>
/// and the bus's body cap: at most <see cref="IngestOptions.MaxBufferedBytes"/> of bodies, however large
/// each message is.
/// </summary>
/// <param name="PrefetchCount">Messages RabbitMQ hands out before acknowledgement; no batch, nor all batches at once, exceed it.</param>
/// <param name="BatchSize">Messages written in one transaction at most.</param>
/// <param name="ConcurrentBatches">Batches written at the same time.</param>
public sealed record IngestLimits(int PrefetchCount, int BatchSize, int ConcurrentBatches)
{
    public static IngestLimits From(IngestOptions options, int maxMessageBytes)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxMessageBytes);
        // Left alone, the prefetch lets one batch collect while the others are written.
        var wanted = options.BatchSize * (options.ConcurrentBatches + 1);
        var fit = (int)Math.Clamp(options.MaxBufferedBytes / maxMessageBytes, 1, wanted);
        var concurrent = Math.Min(options.ConcurrentBatches, fit);
        // MassTransit raises the prefetch to BatchSize × ConcurrentBatches if it is lower, so that product must fit.
        var batch = Math.Clamp(fit / (concurrent + 1), 1, options.BatchSize);
        return new IngestLimits(fit, batch, concurrent);
    }
}
