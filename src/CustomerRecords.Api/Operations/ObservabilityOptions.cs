using System.ComponentModel.DataAnnotations;
using OpenTelemetry.Exporter;

namespace CustomerRecords.Api.Operations;

/// <summary>Traces, metrics and request logs (configuration section <c>Observability</c>).</summary>
public sealed class ObservabilityOptions
{
    public const string Section = "Observability";

    /// <summary>OpenTelemetry <c>service.name</c> on every span and metric. Default <c>customer-records</c>.</summary>
    [Required(ErrorMessage = "Observability:ServiceName must not be empty; leave it unset for 'customer-records'.")]
    public string ServiceName { get; set; } = "customer-records";

    /// <summary>
    /// OTLP collector URL (e.g. <c>http://localhost:4317</c>). Unset: traces and metrics are exported over OTLP only
    /// when the standard <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> variable is set, otherwise not at all.
    /// </summary>
    public string? OtlpEndpoint { get; set; }

    /// <summary>Wire protocol for <see cref="OtlpEndpoint"/>: <c>Grpc</c> (port 4317, default) or <c>HttpProtobuf</c> (port 4318).</summary>
    public OtlpExportProtocol OtlpProtocol { get; set; } = OtlpExportProtocol.Grpc;

    /// <summary>Serve Prometheus text at <c>/metrics</c>. Default <c>true</c>; access is limited by <see cref="MetricsAllowedNetworks"/>.</summary>
    public bool PrometheusEnabled { get; set; } = true;

    /// <summary>
    /// CIDR blocks allowed to scrape <c>/metrics</c>, e.g. <c>10.0.0.0/16</c>. Empty (default): loopback only, which is
    /// where an on-host agent (CloudWatch agent, Prometheus agent) scrapes from. Requests that came through a proxy
    /// or load balancer are refused whatever their address.
    /// </summary>
    public string[] MetricsAllowedNetworks { get; set; } = [];

    /// <summary>Fraction of new traces recorded, 0.0–1.0. Default 1.0; a caller's sampling decision is always kept.</summary>
    [Range(0.0, 1.0, ErrorMessage = "Observability:TraceSampleRatio must be between 0.0 and 1.0 (e.g. 0.1 records one trace in ten).")]
    public double TraceSampleRatio { get; set; } = 1.0;

    /// <summary>
    /// Log one line per request: method, route template, status and duration — never the path values, query string,
    /// headers or body. Default <c>true</c>.
    /// </summary>
    public bool RequestLogging { get; set; } = true;

    /// <summary>
    /// Also record ASP.NET Core's routing, authentication and authorization meters and FusionCache's own counters: one
    /// more measurement per request or cache operation each. Default <c>false</c>.
    /// </summary>
    public bool DetailedMetrics { get; set; }
}
