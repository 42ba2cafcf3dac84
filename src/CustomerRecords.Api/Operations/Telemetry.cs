using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace CustomerRecords.Api.Operations;

/// <summary>
/// The service's own OpenTelemetry sources. Features create their instruments and spans here so that
/// one name, registered once in <see cref="OperationsExtensions.AddOperations"/>, covers all of them.
/// </summary>
public static class Telemetry
{
    /// <summary>Name of the service's <see cref="System.Diagnostics.Metrics.Meter"/> and <see cref="System.Diagnostics.ActivitySource"/>.</summary>
    public const string MeterName = "CustomerRecords";

    /// <summary>Source for the service's own spans (e.g. around a cache-or-database lookup).</summary>
    public static readonly ActivitySource ActivitySource = new(MeterName);

    /// <summary>Meter for the service's own instruments (e.g. customers created).</summary>
    public static readonly Meter Meter = new(MeterName);
}
