namespace Finstage.Testing;

/// <summary>Waits for a condition with a deadline, instead of sleeping and hoping.</summary>
public static class Eventually
{
    public static async Task<T> WaitForAsync<T>(
        Func<Task<T>> probe, Func<T, bool> isDone, TimeSpan timeout, string what, CancellationToken cancellationToken = default)
    {
        var deadline = DateTime.UtcNow + timeout;
        var delay = TimeSpan.FromMilliseconds(20);
        while (true)
        {
            var value = await probe();
            if (isDone(value))
            {
                return value;
            }
            if (DateTime.UtcNow >= deadline)
            {
                throw new TimeoutException($"Gave up after {timeout.TotalSeconds:0.#} s waiting for {what}; last value: {value}");
            }
            await Task.Delay(delay, cancellationToken);
            delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 250));
        }
    }
}
