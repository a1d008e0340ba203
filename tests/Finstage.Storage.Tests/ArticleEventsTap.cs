using System.Text.Json;
using Finstage.Contracts;
using Finstage.Testing;
using MassTransit.Serialization;
using RabbitMQ.Client;

namespace Finstage.Storage.Tests;

/// <summary>
/// Every <see cref="ArticlesStored"/> event published in a virtual host, in the order the broker took them: a tap on
/// the event's exchange, declared here as MassTransit declares it (durable fanout) so the tap can bind before storage
/// has published anything.
/// </summary>
internal sealed class ArticleEventsTap : IAsyncDisposable
{
    private readonly ExchangeTap _tap;
    private readonly List<ArticlesStored> _received = [];

    private ArticleEventsTap(ExchangeTap tap) => _tap = tap;

    public static async Task<ArticleEventsTap> StartAsync(Uri virtualHost, CancellationToken cancellationToken)
    {
        var factory = new ConnectionFactory { Uri = virtualHost };
        await using (var connection = await factory.CreateConnectionAsync(cancellationToken))
        await using (var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken))
        {
            await channel.ExchangeDeclareAsync(ExchangeTap.ExchangeOf<ArticlesStored>(), ExchangeType.Fanout, durable: true, autoDelete: false,
                cancellationToken: cancellationToken);
        }
        return new ArticleEventsTap(await ExchangeTap.StartAsync<ArticlesStored>(virtualHost, cancellationToken));
    }

    public Task<long> CountAsync(CancellationToken cancellationToken) => _tap.CountAsync(cancellationToken);

    /// <summary>Waits until at least <paramref name="count"/> events have arrived since the tap started.</summary>
    public async Task WaitForCountAsync(int count, TimeSpan timeout, CancellationToken cancellationToken) =>
        await Eventually.WaitForAsync(async () => _received.Count + await _tap.CountAsync(cancellationToken), n => n >= count, timeout,
            $"{count} ArticlesStored events", cancellationToken);

    /// <summary>Waits until nothing more arrives, then answers every event since the tap started, in arrival order.</summary>
    public async Task<IReadOnlyList<ArticlesStored>> SettledAsync(CancellationToken cancellationToken)
    {
        await _tap.SettledCountAsync(cancellationToken);
        foreach (var message in await _tap.DrainAsync(cancellationToken))
        {
            _received.Add(message.Deserialize<ArticlesStored>(SystemTextJsonMessageSerializer.Options)!);
        }
        return [.. _received];
    }

    public ValueTask DisposeAsync() => _tap.DisposeAsync();
}
