using System.Globalization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace CustomerRecords.Api.Docs;

/// <summary>A response header an operation documents; <see cref="Required"/> when every such response carries it.</summary>
internal sealed record ResponseHeader(string Name, string Description, OpenApiSchema Schema, bool Required = true)
{
    public static ResponseHeader ETag { get; } = new(
        "ETag", "The customer's version as a strong entity tag, `\"<version>\"`; send it back in `If-Match` or `If-None-Match`.",
        OpenApiSchemas.String(pattern: "^\"[0-9]+\"$"));

    public static ResponseHeader Location { get; } = new(
        "Location", "Path of the new customer, `/customers/{id}`.", OpenApiSchemas.String(pattern: "^/customers/[0-9]+$", format: "uri-reference"));

    public static ResponseHeader RetryAfter { get; } = new(
        "Retry-After", "Seconds to wait before retrying.", OpenApiSchemas.Integer(0, format: null));

    public static ResponseHeader Cache { get; } = new(
        "X-Cache", "`hit` when no database query was made for this request, else `miss`; sent when `Cache:CacheHeader` is on (the default).",
        OpenApiSchemas.StringEnum(["hit", "miss"]), Required: false);

    public static ResponseHeader Replayed { get; } = new(
        "Idempotent-Replayed", "`true` when this is the stored answer to an earlier request with the same `Idempotency-Key`; absent otherwise.",
        OpenApiSchemas.StringEnum(["true"]), Required: false);

    public static ResponseHeader WwwAuthenticate { get; } = new(
        "WWW-Authenticate", "The authentication schemes the service accepts.", OpenApiSchemas.String());

    public ResponseHeader Optional() => this with { Required = false };
}

/// <summary>A request header an operation reads.</summary>
internal sealed record RequestHeader(string Name, string Description, OpenApiSchema Schema)
{
    public static RequestHeader IfMatch { get; } = new(
        "If-Match",
        "Conditional write: entity tags of the versions this write may replace (`\"3\"`, a list, or `*`). If none is the current version the answer is 412 and nothing changes.",
        OpenApiSchemas.String(minLength: 1));

    public static RequestHeader IfNoneMatch { get; } = new(
        "If-None-Match", "Conditional read: when one of these entity tags (or `*`) is the current version the answer is 304 without a body.",
        OpenApiSchemas.String(minLength: 1));

    public static RequestHeader IdempotencyKey { get; } = new(
        "Idempotency-Key",
        "Makes the create at most once: the same key with the same body replays the first answer (`Idempotent-Replayed: true`); with another body it is 422; while the first is still running, 409 with `Retry-After`. Scoped to the route and the caller.",
        OpenApiSchemas.String(minLength: 1, maxLength: 255, pattern: "^[!-~]+$"));
}

/// <summary>
/// Endpoint metadata for the OpenAPI document that the framework's <c>Produces*</c> cannot express:
/// parameter schemas and descriptions, request headers, response descriptions and headers, and problem
/// responses whose <c>type</c> is listed. Each is an operation transformer on that endpoint only.
/// </summary>
internal static class OpenApiOperations
{
    /// <summary>Describes the parameter <paramref name="name"/> (already in the operation, e.g. a route or query parameter), optionally replacing its schema.</summary>
    public static RouteHandlerBuilder WithParameter(this RouteHandlerBuilder builder, string name, string description, OpenApiSchema? schema = null) =>
        builder.AddOpenApiOperationTransformer((operation, _, _) =>
        {
            var parameter = operation.Parameters?.OfType<OpenApiParameter>().FirstOrDefault(p => p.Name == name)
                ?? throw new InvalidOperationException($"{operation.OperationId} has no parameter {name}.");
            parameter.Description = description;
            if (schema is not null)
            {
                parameter.Schema = schema;
            }

            return Task.CompletedTask;
        });

    /// <summary>Documents a request header the handler reads.</summary>
    public static RouteHandlerBuilder WithRequestHeader(this RouteHandlerBuilder builder, RequestHeader header) =>
        builder.AddOpenApiOperationTransformer((operation, _, _) =>
        {
            operation.Parameters ??= [];
            operation.Parameters.Add(new OpenApiParameter { Name = header.Name, In = ParameterLocation.Header, Description = header.Description, Schema = header.Schema });
            return Task.CompletedTask;
        });

    /// <summary>Describes the response <paramref name="status"/> (declared with <c>Produces</c>) and its headers.</summary>
    public static RouteHandlerBuilder WithResponse(this RouteHandlerBuilder builder, int status, string description, params ResponseHeader[] headers) =>
        builder.AddOpenApiOperationTransformer((operation, _, _) =>
        {
            var key = status.ToString(CultureInfo.InvariantCulture);
            if (operation.Responses?.TryGetValue(key, out var existing) != true || existing is not OpenApiResponse response)
            {
                throw new InvalidOperationException($"{operation.OperationId} does not produce {status}; declare it with Produces first.");
            }

            response.Description = description;
            AddHeaders(response, headers);
            return Task.CompletedTask;
        });

    /// <summary>Sets the body schema of the response <paramref name="status"/>, for a shape the generator cannot see (a custom converter).</summary>
    public static RouteHandlerBuilder WithResponseBody(this RouteHandlerBuilder builder, int status, string description, string mediaType, OpenApiSchema schema, params ResponseHeader[] headers) =>
        builder.AddOpenApiOperationTransformer((operation, _, _) =>
        {
            var response = new OpenApiResponse
            {
                Description = description,
                Content = new Dictionary<string, OpenApiMediaType>(StringComparer.Ordinal) { [mediaType] = new() { Schema = schema } },
            };
            AddHeaders(response, headers);
            operation.Responses ??= [];
            operation.Responses[status.ToString(CultureInfo.InvariantCulture)] = response;
            return Task.CompletedTask;
        });

    /// <summary>
    /// A problem-details response: <c>application/problem+json</c> whose <c>type</c> is one of
    /// <c>urn:customer-records:problem:&lt;name&gt;</c> for <paramref name="names"/>.
    /// </summary>
    public static TBuilder WithProblem<TBuilder>(this TBuilder builder, int status, string description, string[] names, params ResponseHeader[] headers)
        where TBuilder : IEndpointConventionBuilder =>
        builder.AddOpenApiOperationTransformer((operation, context, _) =>
        {
            operation.Responses ??= [];
            operation.Responses[status.ToString(CultureInfo.InvariantCulture)] = Problem(context.Document!, status, description, names, headers);
            return Task.CompletedTask;
        });

    /// <summary>A problem response for the document, used by the endpoint helpers and the document-wide transformers.</summary>
    internal static OpenApiResponse Problem(OpenApiDocument document, int status, string description, string[] names, params ResponseHeader[] headers)
    {
        var response = new OpenApiResponse
        {
            Description = description,
            Content = new Dictionary<string, OpenApiMediaType>(StringComparer.Ordinal)
            {
                [OpenApiSchemas.ProblemMediaType] = new() { Schema = OpenApiSchemas.ProblemFor(document, status, names) },
            },
        };
        AddHeaders(response, headers);
        return response;
    }

    private static void AddHeaders(OpenApiResponse response, ResponseHeader[] headers)
    {
        if (headers.Length == 0)
        {
            return;
        }

        response.Headers ??= new Dictionary<string, IOpenApiHeader>(StringComparer.OrdinalIgnoreCase);
        foreach (var header in headers)
        {
            response.Headers[header.Name] = new OpenApiHeader { Description = header.Description, Required = header.Required, Schema = header.Schema };
        }
    }
}
