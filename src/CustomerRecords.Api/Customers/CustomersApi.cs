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
            .WithDescription("Keyset pages read from an index in order, so every page costs what the first costs. Live customers only, unless `state=deleted`. Filters combine; `next` is the cursor of the following page, null on the last one.")
            .WithParameter("limit", $"Customers per page, 1–{CustomerListQuery.MaxLimit}.", OpenApiSchemas.Integer(1, CustomerListQuery.MaxLimit, CustomerListQuery.DefaultLimit))
            .WithParameter("after", "The `next` cursor of the previous page, unchanged (opaque; it belongs to one sort order). Cursors issued before the lifecycle release are refused with 400: start again from the first page.", OpenApiSchemas.String(minLength: 1, maxLength: 2048))
            .WithParameter("email", "Only the customer with this email, compared without regard to letter case.", OpenApiSchemas.String(minLength: 1))
            .WithParameter("q", $"Prefix of the name or the email, ignoring case; 1–{CustomerRules.NameMaxLength} characters after trimming.", OpenApiSchemas.String(minLength: 1, maxLength: CustomerRules.NameMaxLength))
            .WithParameter("phone",
                "Only customers whose phone's digits start with this text's digits; punctuation is ignored on both sides, so `15550102000`, `1 555 010` and `+1-555` all find `+1 (555) 010-2000`. "
                + $"A prefix, not a substring: `555-010` does not find it. At most {CustomerRules.PhoneMaxLength} characters: digits (at least one), spaces and `+ - ( ) .`.",
                OpenApiSchemas.String(minLength: 1, maxLength: CustomerRules.PhoneMaxLength))
            .WithParameter("sort",
                "Order of the pages, ties broken by id; `-` for descending. `name` ignores case. Default `id`; with `updated_since`, `updated_at` (the only sort allowed there); "
                + "with `state=deleted`, `-deleted_at` (newest deletion first) and only `-deleted_at` or `deleted_at` are allowed. Any other combination is a 400 naming `sort`.",
                OpenApiSchemas.StringEnum(CustomerListQuery.AllSorts))
            .WithParameter("state",
                $"`live` (default): customers that are not deleted. `deleted`: soft-deleted customers, which can still be restored; each item carries `deleted_at`. `deleted` also needs scope `{Scopes.Write}` (403 without it, when credentials are configured).",
                OpenApiSchemas.StringEnum(["live", "deleted"], "live"))
            .WithParameter("updated_since",
                "Only live customers changed at or after this instant: an RFC 3339 date-time with an offset (`2026-01-02T03:04:05.123456Z`). Pages run oldest change first (`sort=updated_at`), so a client can follow changes by remembering the last `updated_at` it saw. A deleted customer leaves this listing.",
                OpenApiSchemas.String(minLength: 1, format: "date-time"))
            .WithParameter("count",
                "Adds `total`, the number of customers matching the filters over all pages. `exact`: a `COUNT(*)` with the filters (it reads every matching index entry, so it costs more on big lists). "
                + "`estimated`: on MySQL/MariaDB, with no filter and `state=live`, the table statistics — fast, but they include soft-deleted customers and lag recent writes; "
                + "on SQLite, or with any filter or `state=deleted`, the exact count. Without `count`, nothing is counted.",
                OpenApiSchemas.StringEnum(["exact", "estimated"]))
            .WithResponse(StatusCodes.Status200OK, "One page of customers.")
            .WithProblem(StatusCodes.Status400BadRequest, "A list parameter is invalid, or parameters do not combine (a sort with `updated_since` or `state=deleted`, the cursor of another sort); `errors` names it.", ["validation"])
            .AddOpenApiOperationTransformer((operation, context, _) =>
            {
                // The 403 the scope policies document, plus the second scope of the deleted listing; absent while the service runs open.
                if (context.ApplicationServices.GetRequiredService<Microsoft.Extensions.Options.IOptions<AuthOptions>>().Value.AuthenticationConfigured)
                {
                    operation.Responses ??= [];
                    operation.Responses["403"] = OpenApiOperations.Problem(context.Document!, StatusCodes.Status403Forbidden,
                        $"The credentials lack scope {Scopes.Read}, or `state=deleted` was asked for without scope {Scopes.Write}.", ["forbidden"]);
                }

                return Task.CompletedTask;
            })
            .ProducesUnavailable();
        group.MapGet("/{id:int}", GetCustomer).WithName(nameof(GetCustomer))
            .RequireAuthorization(Scopes.Read)
            .WithSummary("Read one customer")
            .WithDescription("Served from the cache when it holds the customer (`X-Cache: hit`). Send the `ETag` back in `If-None-Match` to get 304 while it has not changed.")
            .WithParameter("id", "The customer's id.")
            .WithRequestHeader(RequestHeader.IfNoneMatch)
            .WithResponse(StatusCodes.Status200OK, "The customer.", ResponseHeader.ETag, ResponseHeader.Cache)
            .Produces(StatusCodes.Status304NotModified)
            .WithResponse(StatusCodes.Status304NotModified, "`If-None-Match` matches the current version; no body.", ResponseHeader.ETag, ResponseHeader.Cache)
            .WithProblem(StatusCodes.Status404NotFound, "No customer has this id.", ["not-found"], ResponseHeader.Cache)
            .ProducesUnavailable();
        group.MapPost("/", CreateCustomer).WithName(nameof(CreateCustomer))
            .RequireAuthorization(Scopes.Write)
            .WithSummary("Create a customer")
            .WithDescription("Answers the stored customer (trimmed) with its `Location` and `ETag`. With an `Idempotency-Key` a retried create makes no second customer.")
            .DocumentsBody<CustomerWrite>(RequestBody.Json)
            .WithRequestHeader(RequestHeader.IdempotencyKey)
            .WithResponse(StatusCodes.Status201Created, "Created; the stored customer.", ResponseHeader.Location, ResponseHeader.ETag, ResponseHeader.Replayed)
            .ProducesBodyProblems(StatusCodes.Status400BadRequest, StatusCodes.Status408RequestTimeout, StatusCodes.Status413PayloadTooLarge, StatusCodes.Status415UnsupportedMediaType)
            .WithProblem(StatusCodes.Status409Conflict,
                "Another customer has this email (ignoring case), or a request with this `Idempotency-Key` is still running (`Retry-After`).",
                ["duplicate-email", "idempotency-key-in-flight"], ResponseHeader.RetryAfter.Optional(), ResponseHeader.Replayed)
            .WithProblem(StatusCodes.Status422UnprocessableEntity, "The `Idempotency-Key` was already used with a different body.", ["idempotency-key-reused"])
            .ProducesUnavailable();
        group.MapPut("/{id:int}", ReplaceCustomer).WithName(nameof(ReplaceCustomer))
            .RequireAuthorization(Scopes.Write)
            .WithSummary("Replace a customer (honours If-Match)")
            .WithDescription("Replaces every field (an absent phone clears it) and bumps the version. With `If-Match` the write happens only if the customer is still at one of those versions.")
            .WithParameter("id", "The customer's id.")
            .DocumentsBody<CustomerWrite>(RequestBody.Json)
            .ProducesUpdateDocs();
        group.MapPatch("/{id:int}", PatchCustomer).WithName(nameof(PatchCustomer))
            .RequireAuthorization(Scopes.Write)
            .WithSummary("Change some fields of a customer (JSON merge patch, honours If-Match)")
            .WithDescription("RFC 7396 merge patch: absent fields are kept, `\"phone\": null` clears the phone; name and email cannot be null. `application/json` is accepted too.")
            .WithParameter("id", "The customer's id.")
            .DocumentsBody<CustomerPatch>(RequestBody.MergePatchJson, RequestBody.Json)
            .ProducesUpdateDocs();
        group.MapDelete("/{id:int}", DeleteCustomer).WithName(nameof(DeleteCustomer))
            .RequireAuthorization(Scopes.Write)
            .WithSummary("Delete a customer (honours If-Match)")
            .WithDescription("A soft delete: the customer disappears from every read and list at once, and can be restored with `POST /customers/{id}/restore` within `Customers:RestoreWindow` (then it is purged for good; ids are never reused). With `If-Match` only if it is still at one of those versions.")
            .WithParameter("id", "The customer's id.")
            .WithRequestHeader(RequestHeader.IfMatch)
            .Produces(StatusCodes.Status204NoContent)
            .WithResponse(StatusCodes.Status204NoContent, "Deleted.")
            .WithProblem(StatusCodes.Status404NotFound, "No customer has this id.", ["not-found"])
            .WithProblem(StatusCodes.Status412PreconditionFailed, "`If-Match` does not match the current version; nothing changed.", ["precondition-failed"])
            .ProducesUnavailable();
        group.MapPost("/{id:int}/restore", RestoreCustomer).WithName(nameof(RestoreCustomer))
            .RequireAuthorization(Scopes.Write)
            .WithSummary("Restore a deleted customer")
            .WithDescription("Brings back a customer deleted within `Customers:RestoreWindow`, with its id and values and a new version. Its email must not have been taken by a live customer meanwhile.")
            .WithParameter("id", "The customer's id.")
            .WithResponse(StatusCodes.Status200OK, "The restored customer.", ResponseHeader.ETag)
            .WithProblem(StatusCodes.Status404NotFound, "No customer has this id (or it was purged or erased).", ["not-found"])
            .WithProblem(StatusCodes.Status409Conflict,
                "The customer is not deleted, was deleted longer ago than `Customers:RestoreWindow`, or a live customer now has its email.",
                ["not-deleted", "restore-window-passed", "duplicate-email"])
            .ProducesUnavailable();
        group.MapPost("/{id:int}/erase", EraseCustomer).WithName(nameof(EraseCustomer))
            .RequireAuthorization(Scopes.Erase)
            .WithSummary("Erase a customer's personal data everywhere (data-subject request)")
            .WithDescription("Removes the row (live or deleted), the values in its history (the events stay, marked erased), the stored answers of the `Idempotency-Key`s that created it, and every cached copy on every instance. Cannot be undone; repeating it answers 204 again.")
            .WithParameter("id", "The customer's id.")
            .Produces(StatusCodes.Status204NoContent)
            .WithResponse(StatusCodes.Status204NoContent, "Erased.")
            .WithProblem(StatusCodes.Status404NotFound, "No customer ever had this id.", ["not-found"])
            .ProducesUnavailable();
        return group;
    }

    /// <summary>The answers a replace or a patch can give, for the OpenAPI document.</summary>
    private static RouteHandlerBuilder ProducesUpdateDocs(this RouteHandlerBuilder builder) => builder
        .WithRequestHeader(RequestHeader.IfMatch)
        .WithResponse(StatusCodes.Status200OK, "The changed customer.", ResponseHeader.ETag)
        .ProducesBodyProblems(StatusCodes.Status400BadRequest, StatusCodes.Status408RequestTimeout, StatusCodes.Status413PayloadTooLarge, StatusCodes.Status415UnsupportedMediaType)
        .WithProblem(StatusCodes.Status404NotFound, "No customer has this id.", ["not-found"])
        .WithProblem(StatusCodes.Status409Conflict, "Another customer has this email (ignoring case).", ["duplicate-email"])
        .WithProblem(StatusCodes.Status412PreconditionFailed, "`If-Match` does not match the current version; nothing changed.", ["precondition-failed"])
        .ProducesUnavailable();

    /// <summary>The answers to a body that cannot be taken, for the OpenAPI document.</summary>
    private static RouteHandlerBuilder ProducesBodyProblems(this RouteHandlerBuilder builder, params int[] statuses)
    {
        foreach (var status in statuses)
        {
            builder = status switch
            {
                StatusCodes.Status400BadRequest => builder.WithProblem(status,
                    "A field is missing or invalid, an unknown or server-owned field was sent, or the JSON is malformed (`validation`, with `errors` per field); or a header is malformed (`bad-request`).",
                    ["validation", "bad-request"]),
                StatusCodes.Status408RequestTimeout => builder.WithProblem(status, "The body arrived slower than `Limits:MinRequestBodyDataRate`.", ["request-timeout"]),
                StatusCodes.Status413PayloadTooLarge => builder.WithProblem(status, $"The body is over {RequestBody.MaxBytes / 1024} KiB.", ["body-too-large"]),
                _ => builder.WithProblem(status, "The body is not JSON in UTF-8 (for PATCH: `application/merge-patch+json` or `application/json`).", ["unsupported-media-type"]),
            };
        }

        return builder;
    }

    /// <summary>503 with <c>Retry-After</c>, for every route that reaches the database.</summary>
    private static RouteHandlerBuilder ProducesUnavailable(this RouteHandlerBuilder builder) =>
        builder.WithProblem(StatusCodes.Status503ServiceUnavailable,
            "The database is unreachable or past `Database:OperationTimeout`; retry after `Retry-After` seconds.", ["unavailable"], ResponseHeader.RetryAfter);

    public static async Task<Results<Ok<CustomerPage>, ProblemHttpResult>> ListCustomers(
        CustomerService customers,
        HttpContext http,
        Microsoft.AspNetCore.Authorization.IAuthorizationService authorization,
        [FromQuery] string? limit,
        [FromQuery] string? after,
        [FromQuery] string? email,
        [FromQuery] string? q,
        [FromQuery] string? sort,
        [FromQuery] string? state,
        [FromQuery(Name = "updated_since")] string? updatedSince,
        [FromQuery] string? count,
        [FromQuery] string? phone,
        CancellationToken ct)
    {
        // The deleted listing is for those who may restore: the write scope too, decided by the same
        // policy as the write routes (which grants everything while the service runs open).
        if (state == "deleted" && !(await authorization.AuthorizeAsync(http.User, resource: null, Scopes.Write)).Succeeded)
        {
            return Problems.Problem(StatusCodes.Status403Forbidden, "forbidden", "Forbidden",
                $"Listing deleted customers (state=deleted) needs scope {Scopes.Write} as well as {Scopes.Read}.");
        }

        // Clients hold sealed cursors; one that does not open (altered, foreign) fails the cursor check below.
        var cursor = after is null ? null : customers.TryOpenCursor(after, out var opened) ? opened : string.Empty;
        if (!CustomerListQuery.TryCreate(limit, cursor, email, q, sort, state, updatedSince, count, phone, out var query, out var errors))
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

        var result = await customers.CreateAsync(change, request, ChangeContext.From(http), ct);
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

        return await customers.DeleteAsync(id, expected, ChangeContext.From(http), ct) switch
        {
            WriteStatus.Done => TypedResults.NoContent(),
            WriteStatus.VersionMismatch => Problems.PreconditionFailed(),
            _ => Problems.NotFound(id),
        };
    }

    public static async Task<Results<Ok<Customer>, ProblemHttpResult>> RestoreCustomer(
        int id, HttpContext http, CustomerService customers, CancellationToken ct)
    {
        var outcome = await customers.RestoreAsync(id, ChangeContext.From(http), ct);
        switch (outcome.Status)
        {
            case WriteStatus.Done:
                http.Response.Headers.ETag = ETags.For(outcome.Customer!.Version);
                return TypedResults.Ok(outcome.Customer);
            case WriteStatus.NotDeleted:
                return Problems.NotDeleted();
            case WriteStatus.RestoreWindowPassed:
                return Problems.RestoreWindowPassed();
            case WriteStatus.DuplicateEmail:
                return Problems.DuplicateEmail();
            default:
                return Problems.NotFound(id);
        }
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> EraseCustomer(
        int id, HttpContext http, CustomerService customers, CancellationToken ct) =>
        await customers.EraseAsync(id, ChangeContext.From(http), ct) == WriteStatus.Done
            ? TypedResults.NoContent()
            : Problems.NotFound(id);

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

        var outcome = await customers.UpdateAsync(id, change, expected, ChangeContext.From(http), ct);
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
