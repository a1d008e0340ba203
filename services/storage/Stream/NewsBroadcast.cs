using System.Threading.Channels;
using Finstage.Contracts;
using Microsoft.Extensions.Options;

namespace Finstage.Storage.Stream;

/// <summary>
/// The live stream of one storage instance: takes each <see cref="ArticlesStored"/> this instance receives, keeps its
/// articles in a bounded replay window, and hands them to every connected client whose filter wants them, each
/// through a bounded buffer of its own. A client whose buffer is full is cut off (<see cref="StreamSubscription.Overflowed"/>)
/// rather than allowed to hold more: the memory for one client never grows past <see cref="StreamOptions.ClientBuffer"/> entries,
/// and every entry is shared (one serialized frame per article, however many clients).
/// </summary>
public sealed class NewsBroadcast : IDisposable
{
    private readonly StreamOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<NewsBroadcast> _logger;
    private readonly StreamMetrics _metrics;
    private readonly Lock _gate = new();
    // Arrival order: what a client that reconnects to this instance missed is what arrived after its last article.
    private readonly LinkedList<StreamEntry> _window = new();
    // Events seen lately: a redelivered event (at-least-once) must not reach clients twice.
    private readonly HashSet<Guid> _seenEvents = [];
    private readonly Queue<(Guid EventId, DateTimeOffset At)> _seenOrder = new();
    private readonly HashSet<StreamSubscription> _subscribers = [];
    private readonly ITimer _heartbeat;
    private bool _closed;

    public NewsBroadcast(IOptions<StreamOptions> options, TimeProvider time, ILogger<NewsBroadcast> logger, StreamMetrics metrics)
    {
        _options = options.Value;
        _time = time;
        _logger = logger;
        _metrics = metrics;
        metrics.ObserveConnections(() => Connections);
        _heartbeat = time.CreateTimer(_ => Heartbeat(), null, _options.HeartbeatInterval, _options.HeartbeatInterval);
    }

    /// <summary>Clients connected now.</summary>
    public int Connections
    {
        get
        {
            lock (_gate)
            {
                return _subscribers.Count;
            }
        }
    }

    /// <summary>Adds the articles of <paramref name="stored"/> to the window and to the buffer of every client that wants them.</summary>
    /// <returns>How many articles were new to the stream (0 for an event seen before).</returns>
    public int Publish(ArticlesStored stored)
    {
        var now = _time.GetUtcNow();
        var entries = new List<StreamEntry>(stored.Articles.Count);
        for (var index = 0; index < stored.Articles.Count; index++)
        {
            var article = stored.Articles[index];
            var position = new StreamPosition(stored.Sequence, index);
            var frame = StreamFrames.Article(new StreamedArticle(
                article.Id, article.Url, article.Title, stored.Symbol, stored.Source, article.Publisher, article.PublishedAt,
                stored.StoredAt, position.ToString()));
            entries.Add(new StreamEntry(position, stored.Symbol, stored.Source, now, frame));
        }

        List<StreamSubscription>? overflowed = null;
        lock (_gate)
        {
            ForgetExpired(now);
            if (_closed || !_seenEvents.Add(stored.EventId))
            {
                return 0;
            }
            _seenOrder.Enqueue((stored.EventId, now));
            foreach (var entry in entries)
            {
                if (_options.ReplayArticles > 0)
                {
                    _window.AddLast(entry);
                    if (_window.Count > _options.ReplayArticles)
                    {
                        _window.RemoveFirst();
                    }
                }
                // Under the lock, as the window is: a client that subscribes now gets each article once, from the window or from here.
                foreach (var subscriber in _subscribers)
                {
                    if (subscriber.Filter.Matches(entry) && !subscriber.TryEnqueue(entry))
                    {
                        (overflowed ??= []).Add(subscriber);
                    }
                }
                foreach (var slow in overflowed ?? [])
                {
                    _subscribers.Remove(slow);
                }
            }
            // The ids of events are kept as long as their articles could be replayed, and at least as many.
            while (_seenOrder.Count > Math.Max(_options.ReplayArticles, 1000))
            {
                _seenEvents.Remove(_seenOrder.Dequeue().EventId);
            }
        }
        foreach (var slow in overflowed ?? [])
        {
            _metrics.ClientCutOff();
            _logger.LogWarning("Cut off a news stream client that fell {Buffer} entries behind", _options.ClientBuffer);
            slow.CutOff(_options.StallTimeout);
        }
        _metrics.ArticlesStreamed(entries.Count);
        return entries.Count;
    }

    /// <summary>
    /// Connects a client, unless <see cref="StreamOptions.MaxConnections"/> are connected already (null). It gets, first,
    /// what it missed after <paramref name="lastSeen"/> as far as this instance's window goes, then every new article.
    /// </summary>
    public StreamSubscription? Subscribe(StreamFilter filter, string? lastSeen)
    {
        var now = _time.GetUtcNow();
        var subscription = new StreamSubscription(this, filter, Channel.CreateBounded<StreamEntry>(new BoundedChannelOptions(_options.ClientBuffer)
        {
            SingleReader = true,
            SingleWriter = false,
            // Never used to wait: a full buffer is a client cut off (TryWrite fails), not a producer held up.
            FullMode = BoundedChannelFullMode.Wait,
        }));
        lock (_gate)
        {
            if (_closed || _subscribers.Count >= _options.MaxConnections)
            {
                _metrics.Refused();
                return null;
            }
            ForgetExpired(now);
            subscription.Replay = Replay(filter, lastSeen, out var gap);
            subscription.Gap = gap;
            _subscribers.Add(subscription);
        }
        return subscription;
    }

    internal void Unsubscribe(StreamSubscription subscription)
    {
        lock (_gate)
        {
            _subscribers.Remove(subscription);
        }
    }

    /// <summary>Ends every stream (the service is stopping): clients reconnect, to another instance if there is one.</summary>
    public void Close()
    {
        StreamSubscription[] all;
        lock (_gate)
        {
            _closed = true;
            all = [.. _subscribers];
            _subscribers.Clear();
        }
        foreach (var subscription in all)
        {
            subscription.End();
        }
    }

    public void Dispose()
    {
        _heartbeat.Dispose();
        Close();
    }

    // What a client missed: after its last article if this instance still holds it (in the order this instance got them);
    // otherwise the gap is reported, with what the window holds after that position, for a client that does not re-read the list.
    private List<StreamEntry> Replay(StreamFilter filter, string? lastSeen, out StreamNotice? gap)
    {
        gap = null;
        if (lastSeen is null)
        {
            return [];
        }
        var replay = new List<StreamEntry>();
        if (!StreamPosition.TryParse(lastSeen, out var position))
        {
            gap = new StreamNotice("unknown-position", "The last event id is not one this stream gives out; what was missed cannot be told: re-read GET /api/news.");
            return replay;
        }
        var node = _window.Last;
        while (node is not null && node.Value.Position != position)
        {
            node = node.Previous;
        }
        if (node is not null)
        {
            for (node = node.Next; node is not null; node = node.Next)
            {
                if (filter.Matches(node.Value))
                {
                    replay.Add(node.Value);
                }
            }
            return replay;
        }
        gap = new StreamNotice(
            "outside-replay-window",
            $"The last event id is not in this instance's replay window (the last {_options.ReplayArticles} articles, at most {_options.ReplayAge.TotalMinutes:0} minutes old): " +
            "some articles may have been missed; re-read GET /api/news. The articles after it that the window holds follow.");
        foreach (var entry in _window)
        {
            if (entry.Position > position && filter.Matches(entry))
            {
                replay.Add(entry);
            }
        }
        return replay;
    }

    private void ForgetExpired(DateTimeOffset now)
    {
        var oldest = now - _options.ReplayAge;
        while (_window.First is { } first && first.Value.ReceivedAt < oldest)
        {
            _window.RemoveFirst();
        }
        while (_seenOrder.TryPeek(out var seen) && seen.At < oldest && _seenOrder.Count > 1000)
        {
            _seenEvents.Remove(_seenOrder.Dequeue().EventId);
        }
    }

    private void Heartbeat()
    {
        StreamSubscription[] all;
        lock (_gate)
        {
            all = [.. _subscribers];
        }
        // A full buffer already has frames to send: the client is not idle, and the heartbeat can wait.
        foreach (var subscription in all)
        {
            subscription.TryEnqueue(StreamEntry.Heartbeat);
        }
    }
}
