using MassTransit;

namespace Finstage.Bench;

/// <summary>A bus of the bench's own on the bench's virtual host: a publisher, and optionally no-op consumers that count.</summary>
public sealed class BenchBus : IAsyncDisposable
{
    private IBusControl _bus = null!;
    private long _received;

    public IBus Bus => _bus;

    public long Received => Interlocked.Read(ref _received);

    /// <summary>A publisher only.</summary>
    public static Task<BenchBus> StartAsync(Uri virtualHost) => StartAsync(virtualHost, null, 0, 0, (_, _) => { });

    /// <summary>A bus with a temporary queue whose consumer counts every <typeparamref name="T"/>.</summary>
    public static Task<BenchBus> StartCountingAsync<T>(Uri virtualHost, string queue, int prefetch = 16, int concurrency = 0)
        where T : class =>
        StartAsync(virtualHost, queue, prefetch, concurrency, (endpoint, self) => endpoint.Handler<T>(_ => self.Count()));

    /// <summary>A bus with a temporary queue whose consumer counts every <typeparamref name="T1"/> and <typeparamref name="T2"/>.</summary>
    public static Task<BenchBus> StartCountingAsync<T1, T2>(Uri virtualHost, string queue, int prefetch = 16)
        where T1 : class
        where T2 : class =>
        StartAsync(virtualHost, queue, prefetch, 0, (endpoint, self) =>
        {
            endpoint.Handler<T1>(_ => self.Count());
            endpoint.Handler<T2>(_ => self.Count());
        });

    public async ValueTask DisposeAsync() => await _bus.StopAsync();

    private Task Count()
    {
        Interlocked.Increment(ref _received);
        return Task.CompletedTask;
    }

    private static async Task<BenchBus> StartAsync(
        Uri virtualHost, string? queue, int prefetch, int concurrency, Action<IRabbitMqReceiveEndpointConfigurator, BenchBus> handlers)
    {
        // The counters exist before the bus is configured, as the handlers capture them.
        var self = new BenchBus();
        self._bus = MassTransit.Bus.Factory.CreateUsingRabbitMq(rabbit =>
        {
            rabbit.Host(virtualHost);
            if (queue is not null)
            {
                rabbit.ReceiveEndpoint(queue, endpoint =>
                {
                    endpoint.AutoDelete = true;
                    endpoint.Durable = false;
                    endpoint.PrefetchCount = prefetch;
                    if (concurrency > 0)
                    {
                        endpoint.ConcurrentMessageLimit = concurrency;
                    }
                    handlers(endpoint, self);
                });
            }
        });
        await self._bus.StartAsync();
        return self;
    }
}
