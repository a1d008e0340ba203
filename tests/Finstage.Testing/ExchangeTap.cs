using System.Text.Json;
using RabbitMQ.Client;

namespace Finstage.Testing;

/// <summary>
/// A queue of the test's own bound to a message type's exchange, with no consumer: it keeps a copy
/// of every message of that type published in the virtual host, counted in real time by a passive
/// declare (the management API's figures trail by its 5 s statistics interval). Exclusive to the
/// tap's connection, so the broker deletes it when the tap is disposed (more than once is fine) or the broker restarts.
/// </summary>
public sealed class ExchangeTap : IAsyncDisposable
{
    private readonly IConnection _connection;
    private readonly IChannel _channel;
    private bool _disposed;

    private ExchangeTap(IConnection connection, IChannel channel, string queue)
    {
        _connection = connection;
        _channel = channel;
        Queue = queue;
    }

    public string Queue { get; }

    /// <summary>The exchange MassTransit publishes <typeparamref name="T"/> to: <c>Namespace:Name</c>.</summary>
    public static string ExchangeOf<T>() => $"{typeof(T).Namespace}:{typeof(T).Name}";

    /// <summary>
    /// Binds a new tap to the exchange of <typeparamref name="T"/>, which must exist already (a
    /// consumer of <typeparamref name="T"/> has started); every message published afterwards is kept.
    /// </summary>
#pragma warning disable CA1000 // ExchangeTap.StartAsync<NewsCrawled>(...) reads better than a generic class.
    public static Task<ExchangeTap> StartAsync<T>(Uri virtualHost, CancellationToken cancellationToken) =>
        StartAsync(virtualHost, ExchangeOf<T>(), cancellationToken);
#pragma warning restore CA1000

    /// <summary>
    /// Binds a new tap to <paramref name="exchange"/>, which must exist already: a message type's exchange, or
    /// the one MassTransit puts in front of a queue that messages are sent to by name (named as the queue).
    /// </summary>
    public static async Task<ExchangeTap> StartAsync(Uri virtualHost, string exchange, CancellationToken cancellationToken)
    {
        var factory = new ConnectionFactory { Uri = virtualHost, ClientProvidedName = "finstage-test-tap", AutomaticRecoveryEnabled = false };
        var connection = await factory.CreateConnectionAsync(cancellationToken);
        try
        {
            var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
            var queue = $"test-tap-{exchange.Split(':')[^1].ToLowerInvariant()}-{Guid.NewGuid():N}";
            await channel.QueueDeclareAsync(queue, durable: false, exclusive: true, autoDelete: false, cancellationToken: cancellationToken);
            await channel.QueueBindAsync(queue, exchange, routingKey: "", cancellationToken: cancellationToken);
            return new ExchangeTap(connection, channel, queue);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>How many messages the tap holds now.</summary>
    public async Task<long> CountAsync(CancellationToken cancellationToken)
    {
        var declared = await _channel.QueueDeclarePassiveAsync(Queue, cancellationToken);
        return declared.MessageCount;
    }

    /// <summary>
    /// Polls the count as fast as the broker answers until it reaches <paramref name="count"/>:
    /// for acting on the first sign of something, not for waiting at leisure.
    /// </summary>
    public async Task<long> WaitForCountAsync(long count, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var now = await CountAsync(cancellationToken);
            if (now >= count)
            {
                return now;
            }
            if (DateTime.UtcNow >= deadline)
            {
                throw new TimeoutException($"Gave up after {timeout.TotalSeconds:0.#} s waiting for {count} messages on {Queue}; it holds {now}");
            }
        }
    }

    /// <summary>Waits until the count stops changing (nothing more is arriving) and answers it.</summary>
    public async Task<long> SettledCountAsync(CancellationToken cancellationToken)
    {
        var last = await CountAsync(cancellationToken);
        var stableSince = DateTime.UtcNow;
        // The broker takes what was already on the wire within milliseconds; a second of no change is plenty.
        while (DateTime.UtcNow - stableSince < TimeSpan.FromSeconds(1))
        {
            await Task.Delay(50, cancellationToken);
            var now = await CountAsync(cancellationToken);
            if (now != last)
            {
                last = now;
                stableSince = DateTime.UtcNow;
            }
        }
        return last;
    }

    /// <summary>Takes every message the tap holds and answers each one's <c>message</c> body (the MassTransit envelope's payload).</summary>
    public async Task<IReadOnlyList<JsonElement>> DrainAsync(CancellationToken cancellationToken) =>
        [.. (await DrainEnvelopesAsync(cancellationToken)).Select(envelope => envelope.GetProperty("message"))];

    /// <summary>
    /// Takes the oldest message the tap holds and answers its whole MassTransit envelope, or null if it holds none: one
    /// round trip, where a drain would chase a producer still publishing.
    /// </summary>
    public async Task<JsonElement?> TakeEnvelopeAsync(CancellationToken cancellationToken)
    {
        if (await _channel.BasicGetAsync(Queue, autoAck: true, cancellationToken) is not { } delivery)
        {
            return null;
        }
        using var envelope = JsonDocument.Parse(delivery.Body);
        return envelope.RootElement.Clone();
    }

    /// <summary>Takes every message the tap holds and answers each one's whole MassTransit envelope (<c>host</c> names the sender's process).</summary>
    public async Task<IReadOnlyList<JsonElement>> DrainEnvelopesAsync(CancellationToken cancellationToken)
    {
        var envelopes = new List<JsonElement>();
        while (await _channel.BasicGetAsync(Queue, autoAck: true, cancellationToken) is { } delivery)
        {
            using var envelope = JsonDocument.Parse(delivery.Body);
            envelopes.Add(envelope.RootElement.Clone());
        }
        return envelopes;
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        // After a broker restart the connection is gone, and the exclusive queue with it.
        try
        {
            if (_channel.IsOpen)
            {
                await _channel.QueueDeleteAsync(Queue);
            }
        }
        catch (Exception exception) when (exception is RabbitMQ.Client.Exceptions.RabbitMQClientException or IOException or OperationCanceledException)
        {
        }
        await _channel.DisposeAsync();
        await _connection.DisposeAsync();
    }
}
