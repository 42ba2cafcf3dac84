using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using CustomerRecords.Api.Caching;
using CustomerRecords.Api.Http;
using CustomerRecords.Api.Security;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CustomerRecords.Api.Customers;

public sealed record TutorialMessage(string Message);

public sealed record TutorialCreated(string Message, int Id);

public sealed record TutorialError(string Error);

/// <summary>The original app's read shape: the row as an array, timestamps as <c>YYYY-MM-DD HH:MM:SS</c>.</summary>
public sealed record TutorialCustomer([property: JsonConverter(typeof(TutorialRowConverter))] Customer Customer);

/// <summary>Marks the original app's routes, whose errors are <c>{"error": "..."}</c> rather than problem details.</summary>
internal sealed class TutorialRouteMarker;

/// <summary>
/// The original app's routes, kept for its existing clients and scripts: same paths, bodies and
/// success shapes, served by the same store (and so the same validation and uniqueness rules).
/// </summary>
internal static class TutorialApi
{
    private const string CreateRoute = "POST /create";

    private static readonly string[] JsonBody = [RequestBody.Json];

    public static RouteGroupBuilder MapTutorialApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup(string.Empty)
            .WithTags("Original app routes")
            .WithMetadata(new TutorialRouteMarker());

        group.MapPost("/create", CreateLegacy).WithName(nameof(CreateLegacy))
            .RequireAuthorization(Scopes.Write)
            .WithSummary("Create a customer (original app route)")
            .DocumentsBody<CustomerWrite>(RequestBody.Json)
            .Produces<TutorialCreated>(StatusCodes.Status201Created)
            .Produces<TutorialError>(StatusCodes.Status400BadRequest)
            .Produces<TutorialError>(StatusCodes.Status409Conflict)
            .Produces<TutorialError>(StatusCodes.Status413PayloadTooLarge)
            .Produces<TutorialError>(StatusCodes.Status415UnsupportedMediaType)
            .Produces<TutorialError>(StatusCodes.Status422UnprocessableEntity);
        group.MapGet("/read/{id:int}", ReadLegacy).WithName(nameof(ReadLegacy))
            .RequireAuthorization(Scopes.Read)
            .WithSummary("Read a customer as an array (original app route)")
            .Produces<TutorialCustomer>()
            .Produces<TutorialError>(StatusCodes.Status404NotFound);
        group.MapPut("/update/{id:int}", UpdateLegacy).WithName(nameof(UpdateLegacy))
            .RequireAuthorization(Scopes.Write)
            .WithSummary("Change a customer's email (original app route)")
            .DocumentsBody<TutorialEmail>(RequestBody.Json)
            .Produces<TutorialMessage>()
            .Produces<TutorialError>(StatusCodes.Status400BadRequest)
            .Produces<TutorialError>(StatusCodes.Status404NotFound)
            .Produces<TutorialError>(StatusCodes.Status409Conflict)
            .Produces<TutorialError>(StatusCodes.Status413PayloadTooLarge)
            .Produces<TutorialError>(StatusCodes.Status415UnsupportedMediaType);
        group.MapDelete("/delete/{id:int}", DeleteLegacy).WithName(nameof(DeleteLegacy))
            .RequireAuthorization(Scopes.Write)
            .WithSummary("Delete a customer (original app route)")
            .Produces<TutorialMessage>()
            .Produces<TutorialError>(StatusCodes.Status404NotFound);
        return group;
    }

    public static async Task<Results<JsonHttpResult<TutorialCreated>, JsonHttpResult<TutorialError>>> CreateLegacy(
        HttpContext http, CustomerService customers, CancellationToken ct)
    {
        var (fields, failure) = await ReadAsync(http.Request, ct);
        if (failure is not null)
        {
            return failure;
        }

        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (!CustomerRules.TryValidateFull(fields!, errors, out var change))
        {
            return Error(StatusCodes.Status400BadRequest, errors);
        }

        if (!IdempotencyKeys.TryRead(http, CreateRoute, out var key, out var keyError))
        {
            return Error(StatusCodes.Status400BadRequest, keyError!);
        }

        var result = await customers.CreateAsync(change, key, CreateRoute, ct);
        switch (result.State)
        {
            case CreateOnceState.KeyReused:
                return Error(StatusCodes.Status422UnprocessableEntity, "This Idempotency-Key was already used with a different body.");
            case CreateOnceState.InFlight:
                http.Response.Headers.RetryAfter = "1";
                return Error(StatusCodes.Status409Conflict, "A request with this Idempotency-Key is still being processed.");
            case CreateOnceState.Replayed:
                http.Response.Headers[IdempotencyKeys.ReplayedHeader] = "true";
                break;
        }

        return result.Outcome.Status == WriteStatus.DuplicateEmail
            ? DuplicateEmail()
            : TypedResults.Json(new TutorialCreated("Customer created", result.Outcome.Customer!.Id), statusCode: StatusCodes.Status201Created);
    }

    public static async Task<Results<JsonHttpResult<TutorialCustomer>, JsonHttpResult<TutorialError>>> ReadLegacy(
        int id, HttpContext http, CustomerService customers, CancellationToken ct)
    {
        var (customer, hit) = await customers.GetAsync(id, ct);
        http.MarkCache(customers.MarksCacheHeader, hit);
        return customer is null
            ? NotFound()
            : TypedResults.Json(new TutorialCustomer(customer));
    }

    public static async Task<Results<JsonHttpResult<TutorialMessage>, JsonHttpResult<TutorialError>>> UpdateLegacy(
        int id, HttpRequest request, CustomerService customers, CancellationToken ct)
    {
        var (fields, failure) = await ReadAsync(request, ct);
        if (failure is not null)
        {
            return failure;
        }

        // The original route changes the email only; other fields in the body are ignored as they were there.
        var (email, error) = fields!.Email.Value is { } raw
            ? CustomerRules.NormalizeEmail(raw)
            : (null, "The email is required.");
        if (error is not null)
        {
            return TypedResults.Json(new TutorialError(error), statusCode: StatusCodes.Status400BadRequest);
        }

        var outcome = await customers.UpdateAsync(id, new CustomerChange(null, email, SetPhone: false, null), null, ct);
        return outcome.Status switch
        {
            WriteStatus.Done => Message("Customer updated"),
            WriteStatus.DuplicateEmail => DuplicateEmail(),
            _ => NotFound(),
        };
    }

    public static async Task<Results<JsonHttpResult<TutorialMessage>, JsonHttpResult<TutorialError>>> DeleteLegacy(
        int id, CustomerService customers, CancellationToken ct) =>
        await customers.DeleteAsync(id, null, ct) == WriteStatus.Done ? Message("Customer deleted") : NotFound();

    /// <summary>An <c>{"error": ...}</c> body, the original app's error shape.</summary>
    public static JsonHttpResult<TutorialError> Error(int status, string message) =>
        TypedResults.Json(new TutorialError(message), statusCode: status);

    private static async Task<(CustomerBody? Fields, JsonHttpResult<TutorialError>? Failure)> ReadAsync(HttpRequest request, CancellationToken ct)
    {
        var (body, bodyError) = await RequestBody.ReadAsync(request, JsonBody, ct);
        if (bodyError is { } error)
        {
            return (null, Error(error.Status, error.Message));
        }

        // Unknown fields were ignored by the original app, so its clients may send them; keep accepting.
        return CustomerBody.TryParse(body, ignoreUnknown: true, out var fields, out var errors)
            ? (fields, null)
            : (null, Error(StatusCodes.Status400BadRequest, errors));
    }

    private static JsonHttpResult<TutorialError> Error(int status, Dictionary<string, string[]> errors) =>
        Error(status, string.Join(" ", errors.Select(e => e.Key == "$" ? e.Value[0] : $"{e.Key}: {e.Value[0]}")));

    private static JsonHttpResult<TutorialError> NotFound() => Error(StatusCodes.Status404NotFound, "Not found");

    private static JsonHttpResult<TutorialError> DuplicateEmail() =>
        Error(StatusCodes.Status409Conflict, "A customer with this email already exists.");

    private static JsonHttpResult<TutorialMessage> Message(string text) =>
        TypedResults.Json(new TutorialMessage(text));
}

/// <summary>Body of <c>PUT /update/{id}</c>.</summary>
public sealed record TutorialEmail(string Email);

/// <summary>Writes a customer as <c>[id, name, email, phone, created_at, updated_at]</c>.</summary>
internal sealed class TutorialRowConverter : JsonConverter<Customer>
{
    private const string Format = "yyyy-MM-dd HH:mm:ss";

    public override Customer Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        throw new NotSupportedException("The original app's row shape is output only.");

    public override void Write(Utf8JsonWriter writer, Customer value, JsonSerializerOptions options)
    {
        writer.WriteStartArray();
        writer.WriteNumberValue(value.Id);
        writer.WriteStringValue(value.Name);
        writer.WriteStringValue(value.Email);
        if (value.Phone is null)
        {
            writer.WriteNullValue();
        }
        else
        {
            writer.WriteStringValue(value.Phone);
        }

        writer.WriteStringValue(value.CreatedAt.ToString(Format, CultureInfo.InvariantCulture));
        writer.WriteStringValue(value.UpdatedAt.ToString(Format, CultureInfo.InvariantCulture));
        writer.WriteEndArray();
    }
}
