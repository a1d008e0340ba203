using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Finstage.ServiceDefaults;

/// <summary>The one activity source and meter under which every Finstage service reports.</summary>
public static class Telemetry
{
    public const string SourceName = "Finstage";
    public const string MeterName = "Finstage";

    public static readonly ActivitySource Source = new(SourceName);
}
