using System.Diagnostics.Metrics;
using Finstage.ServiceDefaults;

namespace Finstage.Storage.Stream;

/// <summary>The live stream's <c>finstage.*</c> metrics: clients connected, refused and cut off, articles streamed.</summary>
public sealed class StreamMetrics
{
    private readonly Meter _meter;
    private readonly Counter<long> _articles;
    private readonly Counter<long> _cutOff;
    private readonly Counter<long> _refused;

    public StreamMetrics(IMeterFactory meters)
    {
        _meter = meters.Create(Telemetry.MeterName);
        _articles = _meter.CreateCounter<long>("finstage.storage.stream.articles", "{article}", "Articles this instance's live stream took in (once each, whatever the clients).");
        _cutOff = _meter.CreateCounter<long>("finstage.storage.stream.cut_off", "{client}", "Stream clients disconnected for falling a whole buffer behind.");
        _refused = _meter.CreateCounter<long>("finstage.storage.stream.refused", "{client}", "Stream connections refused at the connection limit.");
    }

    internal void ObserveConnections(Func<int> connections) =>
        _meter.CreateObservableUpDownCounter("finstage.storage.stream.connections", connections, "{client}", "Stream clients connected now.");

    internal void ArticlesStreamed(int count) => _articles.Add(count);

    internal void ClientCutOff() => _cutOff.Add(1);

    internal void Refused() => _refused.Add(1);
}
