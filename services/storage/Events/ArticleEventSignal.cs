namespace Finstage.Storage.Events;

/// <summary>
/// Wakes the relay when a batch has committed events, so they go out at once rather than at its next poll.
/// Signals coalesce: one pending wake-up covers every commit before the relay reads.
/// </summary>
public sealed class ArticleEventSignal : IDisposable
{
    private readonly SemaphoreSlim _pending = new(0, 1);

    public void Notify()
    {
        try
        {
            _pending.Release();
        }
        catch (SemaphoreFullException)
        {
            // A wake-up is already pending; the relay reads everything committed when it runs.
        }
    }

    /// <summary>Waits for a <see cref="Notify"/> or <paramref name="timeout"/>, whichever is first.</summary>
    public Task WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) => _pending.WaitAsync(timeout, cancellationToken);

    public void Dispose() => _pending.Dispose();
}
