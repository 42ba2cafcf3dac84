using CustomerRecords.Api.Data;
using Microsoft.AspNetCore.Diagnostics;

namespace CustomerRecords.Api.Errors;

/// <summary>
/// Endpoint metadata of an API surface whose errors are not problem documents (the original routes'
/// <c>{"error": ...}</c>): the exception handler lets it write its own shape.
/// </summary>
internal interface IErrorShape
{
    Task WriteAsync(HttpContext http, int status, string title);
}

/// <summary>
/// Failures no handler expects — the database unreachable, a malformed request the server itself
/// rejected — become problem details (or the surface's own <see cref="IErrorShape"/>) with no exception
/// text: messages from the database can carry SQL and customer data.
/// </summary>
internal sealed partial class ErrorHandler(ILogger<ErrorHandler> logger) : IExceptionHandler
{
    /// <summary>Seconds a client should wait before retrying after a 503.</summary>
    public const int RetryAfterSeconds = 5;

    public async ValueTask<bool> TryHandleAsync(HttpContext http, Exception exception, CancellationToken cancellationToken)
    {
        if (http.RequestAborted.IsCancellationRequested)
        {
            // The client went away, and the failure is most likely its cancelled query (MySqlConnector
            // reports that as a MySqlException, not an OperationCanceledException): nobody to answer.
            return true;
        }

        if (exception is ReadOnlyRegionException)
        {
            await ReadOnlyRegion.WriteAsync(http);
            return true;
        }

        var (status, title) = exception switch
        {
            BadHttpRequestException bad => (bad.StatusCode, "The request could not be read"),
            // The request was fine; the service can't serve it now, and the client may retry.
            _ when DbFailures.IsUnavailable(exception) => (StatusCodes.Status503ServiceUnavailable, "The service is temporarily unavailable"),
            _ => (StatusCodes.Status500InternalServerError, "An unexpected error occurred"),
        };

        if (status >= 500)
        {
            LogFailure(logger, exception.GetType().Name, (exception as MySqlConnector.MySqlException)?.Number ?? (exception as System.Data.Common.DbException)?.ErrorCode ?? 0, status);
        }

        if (status == StatusCodes.Status503ServiceUnavailable)
        {
            http.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        http.Response.StatusCode = status;
        if (http.GetEndpoint()?.Metadata.GetMetadata<IErrorShape>() is { } shape)
        {
            await shape.WriteAsync(http, status, title);
            return true;
        }

        await Problems.WriteAsync(http, Problems.ForStatus(status, title));
        return true;
    }

    // The exception's type and code (MySQL's error number when there is one) only: its message may quote SQL or the data that failed.
    [LoggerMessage(EventId = 2000, Level = LogLevel.Error, Message = "Request failed with {ExceptionType} (code {ErrorCode}); answered {Status}")]
    private static partial void LogFailure(ILogger logger, string exceptionType, int errorCode, int status);
}

internal static class ErrorHandlingExtensions
{
    public static WebApplicationBuilder AddErrorHandling(this WebApplicationBuilder builder)
    {
        builder.Services.AddProblemDocuments();
        builder.Services.AddExceptionHandler<ErrorHandler>();
        return builder;
    }

    /// <summary>Problem details with the service's one customisation (<see cref="Problems.Customize"/>).</summary>
    public static IServiceCollection AddProblemDocuments(this IServiceCollection services) =>
        services.AddProblemDetails(options => options.CustomizeProblemDetails = Problems.Customize);

    public static WebApplication UseErrorHandling(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        if (!app.Services.GetRequiredService<IWriteGate>().WritesAllowed)
        {
            app.Use(ReadOnlyRegion.RefuseWritesAsync);
        }

        return app;
    }
}

/// <summary>
/// <c>Database:ReadOnly</c> (an Aurora Global Database secondary without write forwarding): every request with a
/// write method (POST, PUT, PATCH, DELETE) to a route that exists is answered 503 <c>read-only-region</c> +
/// <c>Retry-After: 60</c> before anything else runs — authentication, idempotency keys, the database; the original
/// routes answer their own <c>{"error": ...}</c> shape. Reads pass. The data tier refuses writes too
/// (<see cref="ReadOnlyRegionException"/>), should any path reach it.
/// </summary>
internal static class ReadOnlyRegion
{
    public static Task RefuseWritesAsync(HttpContext http, RequestDelegate next) =>
        http.GetEndpoint() is not null && !(HttpMethods.IsGet(http.Request.Method) || HttpMethods.IsHead(http.Request.Method) || HttpMethods.IsOptions(http.Request.Method))
            ? WriteAsync(http)
            : next(http);

    public static async Task WriteAsync(HttpContext http)
    {
        http.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        http.Response.Headers.RetryAfter = Problems.ReadOnlyRetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (http.GetEndpoint()?.Metadata.GetMetadata<IErrorShape>() is { } shape)
        {
            await shape.WriteAsync(http, StatusCodes.Status503ServiceUnavailable, Problems.ReadOnlyRegionTitle);
            return;
        }

        await Problems.WriteAsync(http, Problems.ReadOnlyRegion());
    }
}
