using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace CustomerRecords.Api.Operations;

/// <summary>Health as the load balancer reads it.</summary>
/// <param name="Status">Healthy, Degraded or Unhealthy.</param>
/// <param name="Checks">Each dependency's status (readiness only).</param>
public sealed record HealthResponse(string Status, IReadOnlyDictionary<string, HealthCheckResponse>? Checks = null);

/// <param name="Status">Healthy, Degraded or Unhealthy.</param>
/// <param name="Description">A short, public-safe explanation.</param>
public sealed record HealthCheckResponse(string Status, string? Description);

/// <summary>Source-generated JSON for the health answers.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(HealthResponse))]
internal sealed partial class HealthJsonContext : JsonSerializerContext;

internal static class HealthEndpoints
{
    /// <summary>
    /// <c>/health/live</c>: the process answers (no dependency checks, so a database outage never
    /// gets healthy instances restarted). <c>/health/ready</c>: the checks tagged "ready" pass;
    /// 503 when one is unhealthy, so the load balancer stops sending traffic. The database check reads the latest
    /// verdict of real work and probes only when that is older than <c>Health:DatabaseProbeInterval</c>
    /// (<see cref="Data.DatabaseHealthCheck"/>).
    /// </summary>
    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        // Open to the load balancer: no credentials, never rate limited.
        var group = app.MapGroup("/health").WithTags("Health").AllowAnonymous().DisableRateLimiting();
        group.MapGet("/live", Live).WithName("Live").WithSummary("The process is up")
            .WithDescription("Liveness: checks no dependency, so a database outage never gets healthy instances restarted.")
            .Produces<HealthResponse>();
        group.MapGet("/ready", ReadyAsync).WithName("Ready").WithSummary("The service can serve requests")
            .WithDescription("Readiness: the checks tagged `ready` (the database; the cache, which reports `Degraded` and stays ready while Redis is away). 503 when one is unhealthy, so the load balancer stops sending traffic. " +
                "The database check touches the database at most once per `Health:DatabaseProbeInterval` (default 15 s; `SELECT 1` on the writer, bounded at 3 s) and not at all while requests or background work have used it within that time: their outcome is the verdict. " +
                "With `Health:ProbeIdleDatabase=false` (Aurora Serverless auto-pause) an idle database is never probed, so it can pause; readiness then reports the last verdict, and probes only a database whose last operation failed.")
            .Produces<HealthResponse>()
            .Produces<HealthResponse>(StatusCodes.Status503ServiceUnavailable);
        return app;
    }

    private static Ok<HealthResponse> Live(HttpContext http)
    {
        http.Response.Headers.CacheControl = "no-store";
        return TypedResults.Ok(new HealthResponse("Healthy"));
    }

    private static async Task<JsonHttpResult<HealthResponse>> ReadyAsync(HttpContext http, HealthCheckService health, CancellationToken ct)
    {
        http.Response.Headers.CacheControl = "no-store";
        var report = await health.CheckHealthAsync(c => c.Tags.Contains("ready"), ct);
        var checks = report.Entries.ToDictionary(e => e.Key, e => new HealthCheckResponse(e.Value.Status.ToString(), e.Value.Description));
        return TypedResults.Json(
            new HealthResponse(report.Status.ToString(), checks),
            statusCode: report.Status == HealthStatus.Unhealthy ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status200OK);
    }

}
