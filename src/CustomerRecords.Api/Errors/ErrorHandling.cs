using System.Data.Common;
using CustomerRecords.Api.Customers;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace CustomerRecords.Api.Errors;

/// <summary>
/// Failures no handler expects — the database unreachable, a malformed request the server itself
/// rejected — become problem details (or the original routes' <c>{"error"}</c>) with no exception
/// text: messages from the database can carry SQL and customer data.
/// </summary>
internal sealed partial class ErrorHandler(IProblemDetailsService problemDetails, ILogger<ErrorHandler> logger) : IExceptionHandler
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

        var (status, slug, title) = exception switch
        {
            BadHttpRequestException bad => (bad.StatusCode, bad.StatusCode == StatusCodes.Status413PayloadTooLarge ? "body-too-large" : "bad-request", "The request could not be read"),
            // Any database failure, passing (Data/DbFailures) or not (an expired IAM token is "access
            // denied"): the request was fine, the service can't serve it now; the client may retry.
            DbException or TimeoutException or OperationCanceledException or Polly.Timeout.TimeoutRejectedException
                or IOException or System.Net.Sockets.SocketException
                => (StatusCodes.Status503ServiceUnavailable, "unavailable", "The service is temporarily unavailable"),
            _ => (StatusCodes.Status500InternalServerError, "internal", "An unexpected error occurred"),
        };

        if (status >= 500)
        {
            LogFailure(logger, exception.GetType().Name, (exception as MySqlConnector.MySqlException)?.Number ?? (exception as DbException)?.ErrorCode ?? 0, status);
        }

        if (status == StatusCodes.Status503ServiceUnavailable)
        {
            http.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        http.Response.StatusCode = status;
        if (http.GetEndpoint()?.Metadata.GetMetadata<TutorialRouteMarker>() is not null)
        {
            await TutorialApi.Error(status, title).ExecuteAsync(http);
            return true;
        }

        return await problemDetails.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            ProblemDetails = new ProblemDetails { Status = status, Title = title, Type = Problems.TypePrefix + slug },
        });
    }

    // The exception's type and code (MySQL's error number when there is one) only: its message may quote SQL or the data that failed.
    [LoggerMessage(EventId = 2000, Level = LogLevel.Error, Message = "Request failed with {ExceptionType} (code {ErrorCode}); answered {Status}")]
    private static partial void LogFailure(ILogger logger, string exceptionType, int errorCode, int status);
}

internal static class ErrorHandlingExtensions
{
    public static WebApplicationBuilder AddErrorHandling(this WebApplicationBuilder builder)
    {
        builder.Services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
        {
            // Problems produced by the framework (404 for an unknown route, 405) get our type URNs too.
            context.ProblemDetails.Type ??= Problems.TypePrefix + context.ProblemDetails.Status switch
            {
                StatusCodes.Status404NotFound => "not-found",
                StatusCodes.Status405MethodNotAllowed => "method-not-allowed",
                _ => "http-" + context.ProblemDetails.Status,
            };
            context.ProblemDetails.Extensions.Remove("exception");
        });
        builder.Services.AddExceptionHandler<ErrorHandler>();
        return builder;
    }

    public static WebApplication UseErrorHandling(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        return app;
    }
}
