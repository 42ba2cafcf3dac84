using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using CustomerRecords.Api.Auth;
using CustomerRecords.Api.Customers;
using CustomerRecords.Api.Docs;
using CustomerRecords.Api.Errors;
using CustomerRecords.Api.Http;
using CustomerRecords.Api.Idempotency;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.OpenApi;

namespace CustomerRecords.Api.OriginalRoutes;

public sealed record OriginalMessage(string Message);

public sealed record OriginalCreated(string Message, int Id);

public sealed record OriginalError(string Error);

/// <summary>The original app's read shape: the row as an array, timestamps as <c>YYYY-MM-DD HH:MM:SS</c>.</summary>
public sealed record OriginalRow([property: JsonConverter(typeof(OriginalRowConverter))] Customer Customer);

/// <summary>The original routes' error shape, <c>{"error": "..."}</c> rather than problem details, for failures no handler expects.</summary>
internal sealed class OriginalErrorShape : IErrorShape
{
    public Task WriteAsync(HttpContext http, int status, string title) => OriginalRoutesApi.Error(status, title).ExecuteAsync(http);
}

/// <summary>
/// The original app's routes, kept for its existing clients and scripts: same paths, bodies and
/// success shapes, served by the same store (and so the same validation and uniqueness rules).
/// </summary>
internal static class OriginalRoutesApi
{
    /// <summary>The original routes' JSON shapes, ahead of the framework's reflection in the resolver chain.</summary>
    public static WebApplicationBuilder AddOriginalRoutes(this WebApplicationBuilder builder)
    {
        builder.Services.ConfigureHttpJsonOptions(options => options.SerializerOptions.TypeInfoResolverChain.Insert(0, OriginalRoutesJsonContext.Default));
        return builder;
    }

    private const string CreateRoute = "POST /create";

    private static readonly string[] JsonBody = [RequestBody.Json];

    public static RouteGroupBuilder MapOriginalRoutes(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup(string.Empty)
            .WithTags("Original routes")
            .WithMetadata(new OriginalErrorShape());

        group.MapPost("/create", CreateOriginal).WithName(nameof(CreateOriginal))
            .RequireAuthorization(Scopes.Write)
            .WithSummary("Create a customer (original route)")
            .WithDescription("The original app's create: the same rules as `POST /customers`, unknown fields ignored, and its `{\"message\", \"id\"}` answer. Honours `Idempotency-Key` (its keys are not shared with `POST /customers`).")
            .DocumentsBody<OriginalCreate>(RequestBody.Json)
            .WithRequestHeader(RequestHeader.IdempotencyKey)
            .Produces<OriginalCreated>(StatusCodes.Status201Created)
            .WithResponse(StatusCodes.Status201Created, "Created.", ResponseHeader.Replayed)
            .ProducesError(StatusCodes.Status400BadRequest, "A field is missing or invalid, the JSON is malformed, or the `Idempotency-Key` is malformed.")
            .ProducesError(StatusCodes.Status408RequestTimeout, "The body arrived slower than `Limits:MinRequestBodyDataRate`.")
            .ProducesError(StatusCodes.Status409Conflict, "Another customer has this email (ignoring case), or a request with this `Idempotency-Key` is still running (`Retry-After`).",
                ResponseHeader.RetryAfter.Optional(), ResponseHeader.Replayed)
            .ProducesError(StatusCodes.Status413PayloadTooLarge, $"The body is over {RequestBody.MaxBytes / 1024} KiB.")
            .ProducesError(StatusCodes.Status415UnsupportedMediaType, "The body is not `application/json` in UTF-8.")
            .ProducesError(StatusCodes.Status422UnprocessableEntity, "The `Idempotency-Key` was already used with a different body.")
            .ProducesServerErrors();
        group.MapGet("/read/{id:int}", ReadOriginal).WithName(nameof(ReadOriginal))
            .RequireAuthorization(Scopes.Read)
            .WithSummary("Read a customer as an array (original route)")
            .WithDescription("The original app's read: `{\"customer\": [id, name, email, phone, created_at, updated_at]}` with times as `YYYY-MM-DD HH:MM:SS` (UTC).")
            .WithParameter("id", "The customer's id.")
            .WithResponseBody(StatusCodes.Status200OK, "The customer as a row.", RequestBody.Json, RowSchema(), ResponseHeader.Cache)
            .ProducesError(StatusCodes.Status404NotFound, "No customer has this id (`{\"error\": \"Not found\"}`).", ResponseHeader.Cache)
            .ProducesServerErrors();
        group.MapPut("/update/{id:int}", UpdateOriginal).WithName(nameof(UpdateOriginal))
            .RequireAuthorization(Scopes.Write)
            .WithSummary("Change a customer's email (original route)")
            .WithDescription("The original app's update: changes the email only; other fields in the body are ignored.")
            .WithParameter("id", "The customer's id.")
            .DocumentsBody<OriginalEmail>(RequestBody.Json)
            .Produces<OriginalMessage>()
            .WithResponse(StatusCodes.Status200OK, "Updated (`{\"message\": \"Customer updated\"}`).")
            .ProducesError(StatusCodes.Status400BadRequest, "The email is missing or invalid, or the JSON is malformed.")
            .ProducesError(StatusCodes.Status404NotFound, "No customer has this id.")
            .ProducesError(StatusCodes.Status408RequestTimeout, "The body arrived slower than `Limits:MinRequestBodyDataRate`.")
            .ProducesError(StatusCodes.Status409Conflict, "Another customer has this email (ignoring case).")
            .ProducesError(StatusCodes.Status413PayloadTooLarge, $"The body is over {RequestBody.MaxBytes / 1024} KiB.")
            .ProducesError(StatusCodes.Status415UnsupportedMediaType, "The body is not `application/json` in UTF-8.")
            .ProducesServerErrors();
        group.MapDelete("/delete/{id:int}", DeleteOriginal).WithName(nameof(DeleteOriginal))
            .RequireAuthorization(Scopes.Write)
            .WithSummary("Delete a customer (original route)")
            .WithDescription("The original app's delete.")
            .WithParameter("id", "The customer's id.")
            .Produces<OriginalMessage>()
            .WithResponse(StatusCodes.Status200OK, "Deleted (`{\"message\": \"Customer deleted\"}`).")
            .ProducesError(StatusCodes.Status404NotFound, "No customer has this id.")
            .ProducesServerErrors();
        return group;
    }

    /// <summary>The schema of <see cref="OriginalRow"/>, which <see cref="OriginalRowConverter"/> writes as an array.</summary>
    private static OpenApiSchema RowSchema()
    {
        return new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Description = "The original app's read shape.",
            Required = new HashSet<string>(StringComparer.Ordinal) { "customer" },
            Properties = new Dictionary<string, IOpenApiSchema>(StringComparer.Ordinal)
            {
                ["customer"] = new OpenApiSchema
                {
                    Type = JsonSchemaType.Array,
                    Description = "`[id, name, email, phone, created_at, updated_at]`; phone may be null; times are UTC as `YYYY-MM-DD HH:MM:SS`.",
                    MinItems = 6,
                    MaxItems = 6,
                    // Positions differ in type (id, name, email, phone or null, two times); OpenAPI.NET cannot write a prefixItems tuple.
                    Items = new OpenApiSchema
                    {
                        AnyOf =
                        [
                            new OpenApiSchema { Type = JsonSchemaType.Integer, Minimum = "1", Description = "id" },
                            new OpenApiSchema { Type = JsonSchemaType.String, MaxLength = CustomerRules.NameMaxLength, Description = "name, email, phone or a time (`YYYY-MM-DD HH:MM:SS`)" },
                            new OpenApiSchema { Type = JsonSchemaType.Null, Description = "no phone" },
                        ],
                    },
                },
            },
        };
    }

    /// <summary>An <c>{"error": "..."}</c> answer, for the OpenAPI document.</summary>
    private static RouteHandlerBuilder ProducesError(this RouteHandlerBuilder builder, int status, string description, params ResponseHeader[] headers) =>
        builder.Produces<OriginalError>(status).WithResponse(status, description, headers);

    /// <summary>The failures no handler expects, in the original routes' shape (the exception handler honours <see cref="OriginalErrorShape"/>).</summary>
    private static RouteHandlerBuilder ProducesServerErrors(this RouteHandlerBuilder builder) => builder
        .ProducesError(StatusCodes.Status500InternalServerError, "A bug; logged with the exception type only.")
        .ProducesError(StatusCodes.Status503ServiceUnavailable, "The database is unreachable or past `Database:OperationTimeout`; retry after `Retry-After` seconds.", ResponseHeader.RetryAfter);

    public static async Task<Results<JsonHttpResult<OriginalCreated>, JsonHttpResult<OriginalError>>> CreateOriginal(
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

        if (!IdempotencyKeys.TryRead(http, CreateRoute, change.IdempotencyFields, out var request, out var keyError))
        {
            return Error(StatusCodes.Status400BadRequest, keyError!);
        }

        var result = await customers.CreateAsync(change, request, ChangeContext.From(http), ct);
        switch (result.State)
        {
            case OnceState.KeyReused:
                return Error(StatusCodes.Status422UnprocessableEntity, "This Idempotency-Key was already used with a different body.");
            case OnceState.InFlight:
                http.Response.Headers.RetryAfter = "1";
                return Error(StatusCodes.Status409Conflict, "A request with this Idempotency-Key is still being processed.");
            case OnceState.Replayed:
                http.Response.Headers[IdempotencyKeys.ReplayedHeader] = "true";
                break;
        }

        return result.Value.Status == WriteStatus.DuplicateEmail
            ? DuplicateEmail()
            : TypedResults.Json(new OriginalCreated("Customer created", result.Value.Customer!.Id), statusCode: StatusCodes.Status201Created);
    }

    public static async Task<Results<JsonHttpResult<OriginalRow>, JsonHttpResult<OriginalError>>> ReadOriginal(
        int id, HttpContext http, CustomerService customers, CancellationToken ct)
    {
        var (customer, hit) = await customers.GetAsync(id, ct);
        http.MarkCache(customers.MarksCacheHeader, hit);
        return customer is null
            ? NotFound()
            : TypedResults.Json(new OriginalRow(customer));
    }

    public static async Task<Results<JsonHttpResult<OriginalMessage>, JsonHttpResult<OriginalError>>> UpdateOriginal(
        int id, HttpContext http, CustomerService customers, CancellationToken ct)
    {
        var (fields, failure) = await ReadAsync(http.Request, ct);
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
            return TypedResults.Json(new OriginalError(error), statusCode: StatusCodes.Status400BadRequest);
        }

        var outcome = await customers.UpdateAsync(id, new CustomerChange(null, email, SetPhone: false, null), null, ChangeContext.From(http), ct);
        return outcome.Status switch
        {
            WriteStatus.Done => Message("Customer updated"),
            WriteStatus.DuplicateEmail => DuplicateEmail(),
            _ => NotFound(),
        };
    }

    public static async Task<Results<JsonHttpResult<OriginalMessage>, JsonHttpResult<OriginalError>>> DeleteOriginal(
        int id, HttpContext http, CustomerService customers, CancellationToken ct) =>
        await customers.DeleteAsync(id, null, ChangeContext.From(http), ct) == WriteStatus.Done ? Message("Customer deleted") : NotFound();

    /// <summary>An <c>{"error": ...}</c> body, the original app's error shape.</summary>
    public static JsonHttpResult<OriginalError> Error(int status, string message) =>
        TypedResults.Json(new OriginalError(message), statusCode: status);

    private static async Task<(CustomerBody? Fields, JsonHttpResult<OriginalError>? Failure)> ReadAsync(HttpRequest request, CancellationToken ct)
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

    private static JsonHttpResult<OriginalError> Error(int status, Dictionary<string, string[]> errors) =>
        Error(status, string.Join(" ", errors.Select(e => e.Key == "$" ? e.Value[0] : $"{e.Key}: {e.Value[0]}")));

    private static JsonHttpResult<OriginalError> NotFound() => Error(StatusCodes.Status404NotFound, "Not found");

    private static JsonHttpResult<OriginalError> DuplicateEmail() =>
        Error(StatusCodes.Status409Conflict, "A customer with this email already exists.");

    private static JsonHttpResult<OriginalMessage> Message(string text) =>
        TypedResults.Json(new OriginalMessage(text));
}

/// <summary>Body of <c>PUT /update/{id}</c>; other fields are ignored.</summary>
/// <param name="Email">The new email: one plain address of at most 255 characters after trimming.</param>
public sealed record OriginalEmail([property: MinLength(1)] string Email);

/// <summary>Body of <c>POST /create</c>: the rules of <c>POST /customers</c>, but unknown fields are ignored, as the original app did.</summary>
/// <param name="Name">Display name: 1–255 characters after trimming, no control characters.</param>
/// <param name="Email">One plain address of at most 255 characters after trimming.</param>
/// <param name="Phone">Optional; null, empty or absent means no phone. At most 20 characters of digits, spaces and <c>+ - ( ) .</c> after trimming.</param>
public sealed record OriginalCreate(
    [property: MinLength(1)] string Name,
    [property: MinLength(1)] string Email,
    [property: RegularExpression(CustomerWrite.PhonePattern)] string? Phone = null);

/// <summary>Writes a customer as <c>[id, name, email, phone, created_at, updated_at]</c>.</summary>
internal sealed class OriginalRowConverter : JsonConverter<Customer>
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

/// <summary>Source-generated JSON for the original routes' shapes.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(OriginalMessage))]
[JsonSerializable(typeof(OriginalCreated))]
[JsonSerializable(typeof(OriginalError))]
[JsonSerializable(typeof(OriginalRow))]
[JsonSerializable(typeof(OriginalEmail))]
[JsonSerializable(typeof(OriginalCreate))]
internal sealed partial class OriginalRoutesJsonContext : JsonSerializerContext;
