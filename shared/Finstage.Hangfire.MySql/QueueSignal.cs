namespace Finstage.Hangfire.MySql;

/// <summary>
/// Wakes an idle worker of this process when this process adds a job to a queue it listens on, so a local enqueue
/// is picked up at once instead of at the next poll. Other processes' jobs still arrive by polling.
/// </summary>
/// <remarks>
/// One job wakes one worker (the longest waiting of those listening on its queue), never all of them: a burst of
/// enqueues on a busy server costs nothing, and an idle server does not stampede for a single job. It also remembers
/// which queues a worker of this process last found empty, with nothing enqueued here since, so that a worker coming
/// back from a job waits instead of paying a transaction to find nothing.
/// </remarks>
internal sealed class QueueSignal
{
    private readonly Lock _sync = new();
    private readonly LinkedList<Listener> _listeners = new();
    private readonly HashSet<string> _foundEmpty = new(StringComparer.Ordinal);
    private long _notifications;

    /// <summary>How many workers are listening now; the tests read it to know a worker is waiting.</summary>
    public int ListenerCount
    {
        get
        {
            lock (_sync)
            {
                return _listeners.Count;
            }
        }
    }

    /// <summary>
    /// Starts listening before the caller looks at its queues, so a job committed between that look and the wait
    /// is not missed.
    /// </summary>
    public Listener Listen(IReadOnlyList<string> queues)
    {
        var listener = new Listener(this, queues);
        lock (_sync)
        {
            listener.Node = _listeners.AddLast(listener);
        }

        return listener;
    }

    /// <summary>How many jobs this process has announced so far; a probe notes it before it looks.</summary>
    public long Notifications
    {
        get
        {
            lock (_sync)
            {
                return _notifications;
            }
        }
    }

    /// <summary>
    /// Records what a look at the queues found. Empty counts only when no job was announced since
    /// <paramref name="notificationsBefore"/>: one enqueued while the probe ran may not have been visible to it.
    /// </summary>
    public void Probed(IReadOnlyList<string> queues, bool found, long notificationsBefore)
    {
        lock (_sync)
        {
            if (found)
            {
                _foundEmpty.ExceptWith(queues);
            }
            else if (_notifications == notificationsBefore)
            {
                _foundEmpty.UnionWith(queues);
            }
        }
    }

    /// <summary>Whether every one of the queues was found empty by this process, with nothing announced since.</summary>
    public bool FoundEmpty(IReadOnlyList<string> queues)
    {
        lock (_sync)
        {
            return queues.All(_foundEmpty.Contains);
        }
    }

    /// <summary>Tells one listener of the queue that a job is there.</summary>
    public void Notify(string queue)
    {
        lock (_sync)
        {
            _notifications++;
            _foundEmpty.Remove(queue);
            for (var node = _listeners.First; node is not null; node = node.Next)
            {
                if (node.Value.TryWake(queue))
                {
                    return;
                }
            }
        }
    }

    private void Remove(Listener listener)
    {
        lock (_sync)
        {
            if (listener.Node is { List: not null } node)
            {
                _listeners.Remove(node);
            }
        }
    }

    /// <summary>One worker's wait for a job on its queues.</summary>
    internal sealed class Listener : IDisposable
    {
        private readonly QueueSignal _signal;
        private readonly IReadOnlyList<string> _queues;
        private readonly ManualResetEventSlim _woken = new(false);
        private string? _wokenFor;
        private bool _used;

        public Listener(QueueSignal signal, IReadOnlyList<string> queues)
        {
            _signal = signal;
            _queues = queues;
        }

        internal LinkedListNode<Listener>? Node { get; set; }

        /// <summary>Waits until a job arrives on one of the queues or the timeout passes; true when woken for a job.</summary>
        public bool Wait(TimeSpan timeout, CancellationToken cancellationToken)
        {
            _used = _woken.Wait(timeout, cancellationToken);
            return _used;
        }

        /// <summary>
        /// Stops listening. A wake-up that arrived while the worker was already taking another job is handed to the
        /// next listener, so the job that caused it does not wait for a poll.
        /// </summary>
        public void Dispose()
        {
            _signal.Remove(this);
            if (_wokenFor is { } queue && !_used)
            {
                _signal.Notify(queue);
            }

            _woken.Dispose();
        }

        // Called under the signal's lock.
        internal bool TryWake(string queue)
        {
            if (_wokenFor is not null || !_queues.Contains(queue, StringComparer.Ordinal))
            {
                return false;
            }

            _wokenFor = queue;
            _woken.Set();
            return true;
        }
    }
}
