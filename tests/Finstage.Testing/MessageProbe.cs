using System.Collections.Concurrent;
using System.Diagnostics;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace Finstage.Testing;

/// <summary>One message a probe received, with the trace it arrived in.</summary>
public sealed record Received<T>(T Message, ActivityTraceId? TraceId);

/// <summary>
/// A bus of the test's own on the real RabbitMQ that collects every message of type
/// <typeparamref name="T"/> published in a virtual host, as a service's consumer would get them.
/// </summary>
public sealed class MessageProbe<T> : IAsyncDisposable
    where T : class
{
    private readonly ServiceProvider _provider;
    private readonly IBusControl _bus;

    private MessageProbe(ServiceProvider provider)
    {
        _provider = provider;
        _bus = provider.GetRequiredService<IBusControl>();
    }

    public ConcurrentQueue<Received<T>> Messages { get; } = new();

    /// <summary>Starts a probe whose queue is bound before this returns, so nothing published afterwards is missed.</summary>
#pragma warning disable CA1000 // MessageProbe<CrawlRequested>.StartAsync(...) reads better than a separate factory class.
    public static Task<MessageProbe<T>> StartAsync(Uri virtualHost, string queueName, CancellationToken cancellationToken = default) =>
        StartAsync(virtualHost, queueName, sentByName: false, cancellationToken);

    /// <summary>
    /// Starts a probe that consumes a service's own durable queue in its place, and so gets only what is sent
    /// to that queue by name (the service must not run beside it).
    /// </summary>
    public static Task<MessageProbe<T>> StartOnServiceQueueAsync(Uri virtualHost, string queueName, CancellationToken cancellationToken = default) =>
        StartAsync(virtualHost, queueName, sentByName: true, cancellationToken);
#pragma warning restore CA1000

    private static async Task<MessageProbe<T>> StartAsync(Uri virtualHost, string queueName, bool sentByName, CancellationToken cancellationToken)
    {
        var services = new ServiceCollection();
        MessageProbe<T>? probe = null;
        services.AddMassTransit(bus =>
        {
            bus.DisableUsageTelemetry();
            bus.UsingRabbitMq((context, rabbit) =>
            {
                rabbit.Host(virtualHost);
                rabbit.ReceiveEndpoint(queueName, endpoint =>
                {
                    endpoint.AutoDelete = !sentByName;
                    endpoint.Durable = sentByName;
                    endpoint.ConfigureConsumeTopology = !sentByName;
                    endpoint.Handler<T>(message =>
                    {
                        probe!.Messages.Enqueue(new Received<T>(message.Message, Activity.Current?.TraceId));
                        return Task.CompletedTask;
                    });
                });
            });
        });
        probe = new MessageProbe<T>(services.BuildServiceProvider());
        await probe._bus.StartAsync(cancellationToken);
        return probe;
    }

    /// <summary>Waits until at least <paramref name="count"/> messages matching <paramref name="filter"/> have arrived.</summary>
    public Task<List<Received<T>>> WaitForAsync(int count, Func<T, bool> filter, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        Eventually.WaitForAsync(
            () => Task.FromResult(Messages.Where(received => filter(received.Message)).ToList()),
            received => received.Count >= count,
            timeout,
            $"{count} {typeof(T).Name} messages",
            cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await _bus.StopAsync();
        await _provider.DisposeAsync();
    }
}
