using Microsoft.AspNetCore.Http.HttpResults;

namespace CustomerRecords.Api.Errors;

/// <summary>
/// Every error the <c>/customers</c> API returns, as RFC 9457 problem details with a stable <c>type</c>.
/// Clients branch on <c>type</c>; <c>title</c> is for people and may be reworded.
/// </summary>
internal static class Problems
{
    public const string TypePrefix = "urn:customer-records:problem:";

    public static ProblemHttpResult NotFound(int id) =>
        Problem(StatusCodes.Status404NotFound, "not-found", "Customer not found", $"No customer has id {id}.");

    public static ProblemHttpResult DuplicateEmail() =>
        Problem(StatusCodes.Status409Conflict, "duplicate-email", "Email already in use", "Another customer already has this email address (compared without regard to letter case).");

    public static ProblemHttpResult IdempotencyKeyReused() =>
        Problem(StatusCodes.Status422UnprocessableEntity, "idempotency-key-reused", "Idempotency key reused", "This Idempotency-Key was already used with a different body; use a new key for a different request.");

    public static ProblemHttpResult IdempotencyKeyInFlight() =>
        Problem(StatusCodes.Status409Conflict, "idempotency-key-in-flight", "Request still in progress", "A request with this Idempotency-Key is still being processed; retry shortly for its answer.");

    public static ProblemHttpResult PreconditionFailed() =>
        Problem(StatusCodes.Status412PreconditionFailed, "precondition-failed", "The customer has changed", "The If-Match ETag does not match the current version; read the customer again and retry.");

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
        _ => Problem(error.Status, "bad-request", "The request is not valid", error.Message),
    };

    public static ProblemHttpResult Problem(int status, string slug, string title, string? detail = null) =>
        TypedResults.Problem(detail, statusCode: status, title: title, type: TypePrefix + slug);
}
