using System.Reflection;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;
using CustomerRecords.Api.Redaction;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace CustomerRecords.Api.Operations;

/// <summary>
/// What an operator needs from a running instance: systemd integration, JSON logs with trace ids,
/// OpenTelemetry traces and metrics (OTLP push and Prometheus pull).
/// </summary>
public static class OperationsExtensions
{
    /// <summary>Path of the Prometheus scraping endpoint.</summary>
    public const string MetricsPath = "/metrics";

    // Meters recorded always: the request durations and connections, the limiter's and the error handler's
    // decisions, the connection pools, and the service's own meter (cache hits and misses, feed, writes).
    // Names of meters that are not present are harmless.
    private static readonly string[] Meters =
    [
        "Microsoft.AspNetCore.Hosting",
        "Microsoft.AspNetCore.Server.Kestrel",
        "Microsoft.AspNetCore.Diagnostics",
        "Microsoft.AspNetCore.RateLimiting",
        "MySqlConnector",
        Telemetry.MeterName,
    ];

    // With Observability:DetailedMetrics: one more measurement per request each (route matching, authentication,
    // authorization) and one per cache operation (FusionCache's own counters), measured in
    // bench/results/2026-12-02-issue17-steps.md; the always-on meters already show the same in sum.
    private static readonly string[] DetailedMeters =
    [
        "Microsoft.AspNetCore.Routing",
        "Microsoft.AspNetCore.Authentication",
        "Microsoft.AspNetCore.Authorization",
        "ZiggyCreatures.Caching.Fusion",
    ];

    private static readonly string[] ActivitySources =
    [
        "MySqlConnector",
        "ZiggyCreatures.Caching.Fusion",
        Telemetry.MeterName,
    ];

    /// <summary>
    /// Adds systemd integration, JSON console logging, the request log and OpenTelemetry.
    /// Configuration: section <c>Observability</c> (<see cref="ObservabilityOptions"/>), <c>Logging:Console:FormatterName</c>,
    /// and the standard <c>OTEL_*</c> variables.
    /// </summary>
    public static WebApplicationBuilder AddOperations(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);

        builder.Services.AddOptions<ObservabilityOptions>()
            .BindConfiguration(ObservabilityOptions.Section)
            .ValidateDataAnnotations()
            .Validate(
                o => o.MetricsAllowedNetworks.All(MetricsAccessPolicy.IsValidNetwork),
                "Observability:MetricsAllowedNetworks must list CIDR blocks (address/prefix), e.g. "
                + "Observability__MetricsAllowedNetworks__0=10.0.0.0/16; a single host is 10.0.5.7/32.")
            .Validate(
                o => string.IsNullOrWhiteSpace(o.OtlpEndpoint) || Uri.TryCreate(o.OtlpEndpoint, UriKind.Absolute, out _),
                "Observability:OtlpEndpoint must be an absolute URL such as http://localhost:4317, or unset.")
            .ValidateOnStart();

        // The OpenTelemetry pipeline is assembled now, before the container exists, so read the section directly.
        // Invalid values are left to ValidateOnStart above, which names the setting.
        var settings = builder.Configuration.GetSection(ObservabilityOptions.Section).Get<ObservabilityOptions>()
            ?? new ObservabilityOptions();

        // Type=notify: tells systemd "ready" once Kestrel listens and honours SIGTERM for a graceful stop.
        // A no-op when not started by systemd.
        builder.Host.UseSystemd();
        AddLogging(builder);
        builder.Services.AddSingleton<MetricsAccessPolicy>();
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, HealthJsonContext.Default));
        builder.Services.AddTransient<IStartupFilter, RequestLoggingStartupFilter>();
        var otlp = AddOpenTelemetry(builder, settings);
        builder.Services.AddSingleton(new OperationsRegistration(settings.PrometheusEnabled, otlp));
        return builder;
    }

    /// <summary>Maps <c>/metrics</c> (Prometheus text) when <c>Observability:PrometheusEnabled</c> is true.</summary>
    public static WebApplication MapOperations(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);

        var registration = app.Services.GetService<OperationsRegistration>()
            ?? throw new InvalidOperationException("Call builder.AddOperations() before app.MapOperations().");

        if (registration.OtlpProtocol is { } protocol)
        {
            OperationsLog.OtlpExportEnabled(app.Logger, protocol);
        }

        if (registration.PrometheusEnabled)
        {
            var policy = app.Services.GetRequiredService<MetricsAccessPolicy>();
            app.MapPrometheusScrapingEndpoint(
                    MetricsPath,
                    meterProvider: null,
                    configureBranchedPipeline: branch => branch.Use(next => context =>
                    {
                        if (policy.Allows(context))
                        {
                            return next(context);
                        }

                        // 404, not 403: a caller who may not scrape learns nothing about the endpoint.
                        context.Response.StatusCode = StatusCodes.Status404NotFound;
                        return Task.CompletedTask;
                    }),
                    optionsName: null)
                // Access is decided by network above; API credentials are for API callers, not for scrapers.
                .AllowAnonymous()
                .ExcludeFromDescription();
        }

        return app;
    }

    private static void AddLogging(WebApplicationBuilder builder)
    {
        builder.Logging.Configure(o =>
            o.ActivityTrackingOptions = ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId);

        // JSON lines in production (journald, CloudWatch and log shippers parse them), readable text on a laptop.
        // Set here rather than by AddJsonConsole so that Logging:Console:FormatterName still decides, and after
        // UseSystemd so that its own formatter choice does not win under systemd.
        var formatter = builder.Configuration["Logging:Console:FormatterName"]
            ?? (builder.Environment.IsDevelopment() ? ConsoleFormatterNames.Simple : ConsoleFormatterNames.Json);
        builder.Services.Configure<ConsoleLoggerOptions>(o => o.FormatterName = formatter);
        builder.Services.Configure<JsonConsoleFormatterOptions>(o =>
        {
            // Scopes carry TraceId and SpanId (and the hosting RequestId) into every JSON line.
            o.IncludeScopes = true;
            o.UseUtcTimestamp = true;
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
        });

        // Hosting's "Request starting/finished" lines contain the full URL with its query string; the request log
        // (RequestLoggingMiddleware) replaces them with the route template.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.Warning);
    }

    private static string? AddOpenTelemetry(WebApplicationBuilder builder, ObservabilityOptions settings)
    {
        var version = typeof(Telemetry).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;

        var otel = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(settings.ServiceName, serviceVersion: version))
            .WithMetrics(metrics =>
            {
                // ASP.NET Core's meters by name: AddAspNetCoreInstrumentation() would add all of them, routing included.
                metrics
                    .AddRuntimeInstrumentation()
                    .AddMeter(Meters);
                if (settings.DetailedMetrics)
                {
                    metrics.AddMeter(DetailedMeters);
                }

                if (settings.PrometheusEnabled)
                {
                    metrics.AddPrometheusExporter();
                }
            });

        var protocol = OtlpProtocolOf(builder.Configuration, settings, out var endpoint);
        if (protocol is null)
        {
            // No exporter, so no tracing pipeline: spans nobody receives would cost every request its sampling,
            // tags and processors. ASP.NET Core still starts each request's Activity (W3C trace context from
            // traceparent), so logs and history events keep their trace ids.
            return null;
        }

        otel.WithTracing(tracing => tracing
            // First, so that exporters added later never see the unscrubbed span.
            .AddProcessor(new PiiScrubbingProcessor())
            .SetSampler(new ParentBasedSampler(new TraceIdRatioBasedSampler(Math.Clamp(settings.TraceSampleRatio, 0.0, 1.0))))
            .AddAspNetCoreInstrumentation(o =>
            {
                // Probes and scrapes would drown the traces that matter.
                o.Filter = context =>
                    !context.Request.Path.StartsWithSegments("/health")
                    && !context.Request.Path.StartsWithSegments(MetricsPath);
                o.RecordException = false;
            })
            .AddSource(ActivitySources));

        if (endpoint is not null)
        {
            otel.UseOtlpExporter(settings.OtlpProtocol, endpoint);
        }
        else
        {
            // The exporter reads OTEL_EXPORTER_OTLP_ENDPOINT / _PROTOCOL / _HEADERS itself.
            otel.UseOtlpExporter();
        }

        return protocol;
    }

    /// <summary>
    /// The OTLP protocol when telemetry is exported (<c>Observability:OtlpEndpoint</c>, with <paramref name="endpoint"/>
    /// set, or <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>), else null.
    /// </summary>
    private static string? OtlpProtocolOf(ConfigurationManager configuration, ObservabilityOptions settings, out Uri? endpoint)
    {
        endpoint = null;
        if (!string.IsNullOrWhiteSpace(settings.OtlpEndpoint) && Uri.TryCreate(settings.OtlpEndpoint, UriKind.Absolute, out endpoint))
        {
            return settings.OtlpProtocol.ToString();
        }

        return string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"])
            ? null
            : configuration["OTEL_EXPORTER_OTLP_PROTOCOL"] ?? "default";
    }

    /// <summary>What <see cref="AddOperations"/> set up, so that <see cref="MapOperations"/> maps the same.</summary>
    private sealed record OperationsRegistration(bool PrometheusEnabled, string? OtlpProtocol);
}
