using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace CustomerRecords.Api.Errors;

/// <summary>
/// Every problem document the service returns, as RFC 9457 problem details with a stable <c>type</c>
/// of the form <c>urn:customer-records:problem:&lt;name&gt;</c>. Clients branch on <c>type</c>; <c>title</c>
/// is for people and may be reworded. Endpoints, middleware and the framework's own answers (unmatched
/// route, wrong method) all come through here, so one scheme holds everywhere.
/// </summary>
internal static class Problems
{
    public const string TypePrefix = "urn:customer-records:problem:";

    /// <summary>The problem name for a status no more specific problem covers (framework answers, middleware).</summary>
    public static string NameFor(int status) => status switch
    {
        StatusCodes.Status400BadRequest => "bad-request",
        StatusCodes.Status401Unauthorized => "unauthorized",
        StatusCodes.Status403Forbidden => "forbidden",
        StatusCodes.Status404NotFound => "not-found",
        StatusCodes.Status405MethodNotAllowed => "method-not-allowed",
        StatusCodes.Status408RequestTimeout => "request-timeout",
        StatusCodes.Status412PreconditionFailed => "precondition-failed",
        StatusCodes.Status413PayloadTooLarge => "body-too-large",
        StatusCodes.Status415UnsupportedMediaType => "unsupported-media-type",
        StatusCodes.Status429TooManyRequests => "rate-limited",
        StatusCodes.Status500InternalServerError => "internal",
        StatusCodes.Status503ServiceUnavailable => "unavailable",
        StatusCodes.Status504GatewayTimeout => "timeout",
        _ => "http-" + status.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    public static string TypeFor(int status) => TypePrefix + NameFor(status);

    public static ProblemHttpResult NotFound(int id) =>
        Problem(StatusCodes.Status404NotFound, "not-found", "Customer not found", $"No customer has id {id}.");

    public static ProblemHttpResult DuplicateEmail() =>
        Problem(StatusCodes.Status409Conflict, "duplicate-email", "Email already in use", "Another customer already has this email address (compared without regard to letter case).");

    public static ProblemHttpResult NotDeleted() =>
        Problem(StatusCodes.Status409Conflict, "not-deleted", "Customer is not deleted", "Only a deleted customer can be restored; this one is live.");

    public static ProblemHttpResult RestoreWindowPassed() =>
        Problem(StatusCodes.Status409Conflict, "restore-window-passed", "Restore window passed", "The customer was deleted longer ago than Customers:RestoreWindow allows; it can no longer be restored.");

    public static ProblemHttpResult IdempotencyKeyReused() =>
        Problem(StatusCodes.Status422UnprocessableEntity, "idempotency-key-reused", "Idempotency key reused", "This Idempotency-Key was already used with a different body; use a new key for a different request.");

    public static ProblemHttpResult IdempotencyKeyInFlight() =>
        Problem(StatusCodes.Status409Conflict, "idempotency-key-in-flight", "Request still in progress", "A request with this Idempotency-Key is still being processed; retry shortly for its answer.");

    public static ProblemHttpResult PreconditionFailed() =>
        Problem(StatusCodes.Status412PreconditionFailed, "precondition-failed", "The customer has changed", "The If-Match ETag does not match the current version; read the customer again and retry.");

    public static ProblemHttpResult BadRequest(string? detail) =>
        Problem(StatusCodes.Status400BadRequest, "bad-request", "The request is not valid", detail);

    public static ProblemHttpResult Validation(IDictionary<string, string[]> errors) =>
        TypedResults.Problem(new HttpValidationProblemDetails(errors)
        {
            Status = StatusCodes.Status400BadRequest,
            Title = "The request is not valid",
            Type = TypePrefix + "validation",
        });

    public static ProblemHttpResult Body(Http.BodyError error) => error.Status switch
    {
        StatusCodes.Status413PayloadTooLarge => Problem(error.Status, "body-too-large", "The body is too large", error.Message),
        StatusCodes.Status415UnsupportedMediaType => Problem(error.Status, "unsupported-media-type", "Unsupported media type", error.Message),
        _ => BadRequest(error.Message),
    };

    public static ProblemHttpResult Unauthorized() =>
        Problem(StatusCodes.Status401Unauthorized, "unauthorized", "Unauthorized",
            "Missing or invalid credentials. Send a bearer token in Authorization or an API key in X-Api-Key.");

    public static ProblemHttpResult Forbidden() =>
        Problem(StatusCodes.Status403Forbidden, "forbidden", "Forbidden",
            "The credentials are valid but lack the scope this operation requires.");

    public static ProblemHttpResult RateLimited(int retryAfterSeconds) =>
        Problem(StatusCodes.Status429TooManyRequests, "rate-limited", "Too Many Requests",
            $"Rate limit exceeded; retry after {retryAfterSeconds} s.");

    /// <summary>Seconds a client should wait before retrying a write in a read-only region: it turns writable only after a failover promotes it.</summary>
    public const int ReadOnlyRetryAfterSeconds = 60;

    public const string ReadOnlyRegionTitle = "This region is read-only";

    public static ProblemHttpResult ReadOnlyRegion() =>
        Problem(StatusCodes.Status503ServiceUnavailable, "read-only-region", ReadOnlyRegionTitle,
            "This region's database is a read-only secondary: reads are served here, writes must go to the primary region.");

    public static ProblemHttpResult Timeout() =>
        Problem(StatusCodes.Status504GatewayTimeout, "timeout", "Request Timeout", "The request took too long and was cancelled.");

    /// <summary>A problem for <paramref name="status"/> with the generic name of that status.</summary>
    public static ProblemHttpResult ForStatus(int status, string title, string? detail = null) =>
        Problem(status, NameFor(status), title, detail);

    public static ProblemHttpResult Problem(int status, string name, string title, string? detail = null) =>
        TypedResults.Problem(detail, statusCode: status, title: title, type: TypePrefix + name);

    /// <summary>Writes <paramref name="problem"/> from middleware, where no endpoint returns a result.</summary>
    public static Task WriteAsync(HttpContext http, ProblemHttpResult problem)
    {
        http.Response.StatusCode = problem.StatusCode;
        return problem.ExecuteAsync(http);
    }

    /// <summary>
    /// The one problem-details customisation: framework-made problems (unmatched route, 405, status code
    /// pages) get their type here, and no document ever carries diagnostics.
    /// </summary>
    internal static void Customize(ProblemDetailsContext context)
    {
        var problem = context.ProblemDetails;
        if (problem.Type is null || !problem.Type.StartsWith(TypePrefix, StringComparison.Ordinal))
        {
            problem.Type = TypeFor(problem.Status ?? context.HttpContext.Response.StatusCode);
        }

        ProblemRedaction.RemoveDiagnostics(problem);
    }
}
