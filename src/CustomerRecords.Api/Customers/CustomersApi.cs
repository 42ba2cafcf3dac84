using CustomerRecords.Api.Auth;
using CustomerRecords.Api.Docs;
using CustomerRecords.Api.Errors;
using CustomerRecords.Api.Http;
using CustomerRecords.Api.Idempotency;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace CustomerRecords.Api.Customers;

/// <summary>The resource API: <c>/customers</c>, problem details on every error.</summary>
internal static class CustomersApi
{
    private const string Route = "POST /customers";

    private static readonly string[] JsonBody = [RequestBody.Json];

    // Merge patch is the documented type; plain JSON is accepted too because many clients send nothing else.
    private static readonly string[] PatchBody = [RequestBody.MergePatchJson, RequestBody.Json];

    public static RouteGroupBuilder MapCustomersApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/customers").WithTags("Customers");

        group.MapGet("/", ListCustomers).WithName(nameof(ListCustomers))
            .RequireAuthorization(Scopes.Read)
            .WithSummary("List customers, a page at a time")
            .ProducesValidationProblem();
        group.MapGet("/{id:int}", GetCustomer).WithName(nameof(GetCustomer))
            .RequireAuthorization(Scopes.Read)
            .WithSummary("Read one customer")
            .Produces(StatusCodes.Status304NotModified)
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPost("/", CreateCustomer).WithName(nameof(CreateCustomer))
            .RequireAuthorization(Scopes.Write)
            .WithSummary("Create a customer")
            .DocumentsBody<CustomerWrite>(RequestBody.Json)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        group.MapPut("/{id:int}", ReplaceCustomer).WithName(nameof(ReplaceCustomer))
            .RequireAuthorization(Scopes.Write)
            .WithSummary("Replace a customer (honours If-Match)")
            .DocumentsBody<CustomerWrite>(RequestBody.Json)
            .ProducesUpdateProblems();
        group.MapPatch("/{id:int}", PatchCustomer).WithName(nameof(PatchCustomer))
            .RequireAuthorization(Scopes.Write)
            .WithSummary("Change some fields of a customer (JSON merge patch, honours If-Match)")
            .DocumentsBody<CustomerPatch>(RequestBody.MergePatchJson, RequestBody.Json)
            .ProducesUpdateProblems();
        group.MapDelete("/{id:int}", DeleteCustomer).WithName(nameof(DeleteCustomer))
            .RequireAuthorization(Scopes.Write)
            .WithSummary("Delete a customer (honours If-Match)")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status412PreconditionFailed);
        return group;
    }

    /// <summary>The errors a replace or a patch can answer, for the OpenAPI document.</summary>
    private static RouteHandlerBuilder ProducesUpdateProblems(this RouteHandlerBuilder builder) => builder
        .ProducesValidationProblem()
        .ProducesProblem(StatusCodes.Status404NotFound)
        .ProducesProblem(StatusCodes.Status409Conflict)
        .ProducesProblem(StatusCodes.Status412PreconditionFailed)
        .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
        .ProducesProblem(StatusCodes.Status415UnsupportedMediaType);

    public static async Task<Results<Ok<CustomerPage>, ProblemHttpResult>> ListCustomers(
        CustomerService customers,
        [FromQuery] string? limit,
        [FromQuery] string? after,
        [FromQuery] string? email,
        [FromQuery] string? q,
        [FromQuery] string? sort,
        CancellationToken ct)
    {
        // Clients hold sealed cursors; one that does not open (altered, foreign) fails the cursor check below.
        var cursor = after is null ? null : customers.TryOpenCursor(after, out var opened) ? opened : string.Empty;
        if (!CustomerListQuery.TryCreate(limit, cursor, email, q, sort, out var query, out var errors))
        {
            return Problems.Validation(errors);
        }

        return TypedResults.Ok(await customers.ListAsync(query, ct));
    }

    public static async Task<Results<Ok<Customer>, StatusCodeHttpResult, ProblemHttpResult>> GetCustomer(
        int id, HttpContext http, CustomerService customers, CancellationToken ct)
    {
        var (customer, hit) = await customers.GetAsync(id, ct);
        http.MarkCache(customers.MarksCacheHeader, hit);
        if (customer is null)
        {
            return Problems.NotFound(id);
        }

        http.Response.Headers.ETag = ETags.For(customer.Version);
        return ETags.NoneMatch(http.Request, customer.Version)
            ? TypedResults.StatusCode(StatusCodes.Status304NotModified)
            : TypedResults.Ok(customer);
    }

    public static async Task<Results<Created<Customer>, ProblemHttpResult>> CreateCustomer(
        HttpContext http, CustomerService customers, CancellationToken ct)
    {
        var (change, failure) = await ReadChangeAsync(http.Request, JsonBody, patch: false, ct);
        if (failure is not null)
        {
            return failure;
        }

        if (!IdempotencyKeys.TryRead(http, Route, change.IdempotencyFields, out var request, out var keyError))
        {
            return Problems.BadRequest(keyError);
        }

        var result = await customers.CreateAsync(change, request, ct);
        switch (result.State)
        {
            case OnceState.KeyReused:
                return Problems.IdempotencyKeyReused();
            case OnceState.InFlight:
                http.Response.Headers.RetryAfter = "1";
                return Problems.IdempotencyKeyInFlight();
            case OnceState.Replayed:
                http.Response.Headers[IdempotencyKeys.ReplayedHeader] = "true";
                break;
        }

        if (result.Value.Status == WriteStatus.DuplicateEmail)
        {
            return Problems.DuplicateEmail();
        }

        var created = result.Value.Customer!;
        http.Response.Headers.ETag = ETags.For(created.Version);
        return TypedResults.Created($"/customers/{created.Id}", created);
    }

    public static Task<Results<Ok<Customer>, ProblemHttpResult>> ReplaceCustomer(
        int id, HttpContext http, CustomerService customers, CancellationToken ct) =>
        UpdateAsync(id, http, customers, JsonBody, patch: false, ct);

    public static Task<Results<Ok<Customer>, ProblemHttpResult>> PatchCustomer(
        int id, HttpContext http, CustomerService customers, CancellationToken ct) =>
        UpdateAsync(id, http, customers, PatchBody, patch: true, ct);

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteCustomer(
        int id, HttpContext http, CustomerService customers, CancellationToken ct)
    {
        var (expected, refusal) = await ExpectedVersionAsync(id, http.Request, customers, ct);
        if (refusal is not null)
        {
            return refusal;
        }

        return await customers.DeleteAsync(id, expected, ct) switch
        {
            WriteStatus.Done => TypedResults.NoContent(),
            WriteStatus.VersionMismatch => Problems.PreconditionFailed(),
            _ => Problems.NotFound(id),
        };
    }

    private static async Task<Results<Ok<Customer>, ProblemHttpResult>> UpdateAsync(
        int id, HttpContext http, CustomerService customers, string[] mediaTypes, bool patch, CancellationToken ct)
    {
        var (change, failure) = await ReadChangeAsync(http.Request, mediaTypes, patch, ct);
        if (failure is not null)
        {
            return failure;
        }

        var (expected, refusal) = await ExpectedVersionAsync(id, http.Request, customers, ct);
        if (refusal is not null)
        {
            return refusal;
        }

        var outcome = await customers.UpdateAsync(id, change, expected, ct);
        switch (outcome.Status)
        {
            case WriteStatus.Done:
                http.Response.Headers.ETag = ETags.For(outcome.Customer!.Version);
                return TypedResults.Ok(outcome.Customer);
            case WriteStatus.DuplicateEmail:
                return Problems.DuplicateEmail();
            case WriteStatus.VersionMismatch:
                return Problems.PreconditionFailed();
            default:
                return Problems.NotFound(id);
        }
    }

    /// <summary>Reads and validates a customer body; the failure is the response to send.</summary>
    private static async Task<(CustomerChange Change, ProblemHttpResult? Failure)> ReadChangeAsync(
        HttpRequest request, string[] mediaTypes, bool patch, CancellationToken ct)
    {
        var (body, bodyError) = await RequestBody.ReadAsync(request, mediaTypes, ct);
        if (bodyError is { } error)
        {
            return (default, Problems.Body(error));
        }

        if (!CustomerBody.TryParse(body, ignoreUnknown: false, out var fields, out var errors))
        {
            return (default, Problems.Validation(errors));
        }

        var valid = patch
            ? CustomerRules.TryValidatePatch(fields, errors, out var change)
            : CustomerRules.TryValidateFull(fields, errors, out change);
        return valid ? (change, null) : (default, Problems.Validation(errors));
    }

    /// <summary>
    /// Turns If-Match into the one version the conditional write must find. Several listed ETags
    /// are narrowed to the current version first; the write itself still re-checks it atomically.
    /// </summary>
    private static async Task<(int? Expected, ProblemHttpResult? Refusal)> ExpectedVersionAsync(
        int id, HttpRequest request, CustomerService customers, CancellationToken ct)
    {
        var (present, versions) = ETags.IfMatch(request);
        if (!present || versions is null)
        {
            return (null, null);
        }

        if (versions.Count == 1)
        {
            return (versions[0], null);
        }

        var current = await customers.GetVersionAsync(id, ct);
        if (current is null)
        {
            return (null, Problems.NotFound(id));
        }

        return versions.Contains(current.Value) ? (current, null) : (null, Problems.PreconditionFailed());
    }
}
