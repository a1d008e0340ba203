using System.Threading.Channels;

namespace Finstage.Storage.Stream;

/// <summary>One connected client of <see cref="NewsBroadcast"/>: its filter, what it missed, and its bounded buffer.</summary>
public sealed class StreamSubscription : IDisposable
{
    private readonly NewsBroadcast _stream;
    private readonly Channel<StreamEntry> _buffer;
    private readonly CancellationTokenSource _cutOff = new();

    internal StreamSubscription(NewsBroadcast stream, StreamFilter filter, Channel<StreamEntry> buffer)
    {
        _stream = stream;
        Filter = filter;
        _buffer = buffer;
    }

    public StreamFilter Filter { get; }

    /// <summary>Articles it missed since its <c>Last-Event-ID</c>, to send before the live ones.</summary>
    internal IReadOnlyList<StreamEntry> Replay { get; set; } = [];

    /// <summary>Set when what it missed cannot all be told (its last id is not in the window).</summary>
    internal StreamNotice? Gap { get; set; }

    /// <summary>True once it fell <see cref="StreamOptions.ClientBuffer"/> entries behind and was cut off.</summary>
    public bool Overflowed { get; private set; }

    /// <summary>
    /// Cancelled <see cref="StreamOptions.StallTimeout"/> after it is cut off: the frames already in its buffer and the
    /// reason may take that long to leave; then the connection is dropped. (Cancelling a pending write at once would make
    /// Kestrel reset the connection, and the client would never learn why.)
    /// </summary>
    public CancellationToken CutOffToken => _cutOff.Token;

    internal ChannelReader<StreamEntry> Reader => _buffer.Reader;

    internal bool TryEnqueue(StreamEntry entry) => _buffer.Writer.TryWrite(entry);

    internal void CutOff(TimeSpan farewell)
    {
        Overflowed = true;
        _buffer.Writer.TryComplete();
        _cutOff.CancelAfter(farewell);
    }

    internal void End() => _buffer.Writer.TryComplete();

    public void Dispose()
    {
        _stream.Unsubscribe(this);
        _buffer.Writer.TryComplete();
        // The token source is not disposed: the stream may still cut this client off from another thread (it has no timer to free).
    }
}
