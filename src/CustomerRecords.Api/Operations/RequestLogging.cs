using System.Diagnostics;
using Microsoft.Extensions.Options;

namespace CustomerRecords.Api.Operations;

/// <summary>
/// Puts the request log outermost, ahead of everything Program.cs adds, so that requests short-circuited by
/// authentication, rate limiting or the exception handler are logged too.
/// </summary>
internal sealed class RequestLoggingStartupFilter : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        if (app.ApplicationServices.GetRequiredService<IOptions<ObservabilityOptions>>().Value.RequestLogging)
        {
            app.UseMiddleware<RequestLoggingMiddleware>();
        }

        next(app);
    };
}

/// <summary>
/// One line per request with the route template instead of the path, so ids and e-mail addresses in paths or
/// query strings never reach the logs; trace and span ids come from the logging scope.
/// </summary>
internal sealed class RequestLoggingMiddleware(RequestDelegate next, ILogger<RequestLoggingMiddleware> logger)
{
    private const string Unmatched = "(unmatched)";

    public async Task InvokeAsync(HttpContext context)
    {
        var started = Stopwatch.GetTimestamp();
        int? failedStatus = null;
        try
        {
            await next(context);
        }
        catch
        {
            // The server turns an escaped exception into a 500 after we return; log what the client will see.
            failedStatus = StatusCodes.Status500InternalServerError;
            throw;
        }
        finally
        {
            var status = failedStatus ?? context.Response.StatusCode;
            // Load balancer probes and scrapes arrive every few seconds per instance; only their failures are news.
            var routine = status < 400
                && (context.Request.Path.StartsWithSegments("/health") || context.Request.Path.StartsWithSegments(OperationsExtensions.MetricsPath));
            if (!routine)
            {
                var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                var route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? Unmatched;
                OperationsLog.RequestCompleted(logger, context.Request.Method, route, status, elapsed);
            }
        }
    }
}
