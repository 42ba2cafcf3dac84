using CustomerRecords.Api.Errors;
using CustomerRecords.Api.Hosting;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;

namespace CustomerRecords.Api.Docs;

/// <summary>
/// The answers any operation can give whoever handles it, as this instance is configured: 429 while rate
/// limiting is on (not on endpoints exempt from it), 500 for a bug, 504 while <c>Limits:RequestTimeout</c>
/// is set. Endpoints that declare one of these themselves (the original routes' <c>{"error"}</c> shape) keep theirs.
/// Every write operation (POST, PUT, PATCH, DELETE) also names the 503 <c>read-only-region</c> a <c>Database:ReadOnly</c>
/// region answers it with (any instance may be deployed so; see <c>ReadOnlyRegion</c>).
/// </summary>
internal sealed class OpenApiCommonResponses(IOptions<RateLimitOptions> rateLimit, IOptions<LimitsOptions> limits) : IOpenApiOperationTransformer, IOpenApiDocumentTransformer
{
    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var metadata = context.Description.ActionDescriptor.EndpointMetadata;
        var document = context.Document!;
        operation.Responses ??= [];
        if (rateLimit.Value.Enabled && !metadata.OfType<DisableRateLimitingAttribute>().Any())
        {
            operation.Responses.TryAdd("429", OpenApiOperations.Problem(
                document, StatusCodes.Status429TooManyRequests,
                $"Over `RateLimit:PermitLimit` ({rateLimit.Value.PermitLimit}) requests per window for this client; retry after `Retry-After` seconds.",
                ["rate-limited"], ResponseHeader.RetryAfter));
        }

        operation.Responses.TryAdd("500", OpenApiOperations.Problem(
            document, StatusCodes.Status500InternalServerError, "A bug; logged with the exception type only.", ["internal"]));
        if (limits.Value.RequestTimeout > TimeSpan.Zero)
        {
            operation.Responses.TryAdd("504", OpenApiOperations.Problem(
                document, StatusCodes.Status504GatewayTimeout, $"The request ran past `Limits:RequestTimeout` ({limits.Value.RequestTimeout}).", ["timeout"]));
        }

        return Task.CompletedTask;
    }

    /// <summary>The read-only region's 503 on every write operation, once all operations have their own responses.</summary>
    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        foreach (var item in (document.Paths ?? []).Values)
        {
            foreach (var (method, operation) in item.Operations ?? [])
            {
                if (method == HttpMethod.Post || method == HttpMethod.Put || method == HttpMethod.Patch || method == HttpMethod.Delete)
                {
                    AddReadOnlyRegion(operation, document);
                }
            }
        }

        return Task.CompletedTask;
    }

    /// <summary>What a write's 503 says of a read-only region, whatever else its 503 means.</summary>
    internal const string ReadOnlyRegionDescription =
        "In a region with `Database:ReadOnly` set (an Aurora Global Database secondary), every write is refused before it runs: " +
        "`" + Problems.TypePrefix + "read-only-region` (in the original routes' shape, `{\"error\": \"" + Problems.ReadOnlyRegionTitle + "\"}`), " +
        "`Retry-After: 60`; send writes to the primary region.";

    private static void AddReadOnlyRegion(OpenApiOperation operation, OpenApiDocument document)
    {
        operation.Responses ??= [];
        if (!operation.Responses.TryGetValue("503", out var declared) || declared is not OpenApiResponse response)
        {
            operation.Responses["503"] = OpenApiOperations.Problem(
                document, StatusCodes.Status503ServiceUnavailable, ReadOnlyRegionDescription, ["read-only-region"], ResponseHeader.RetryAfter);
            return;
        }

        response.Description = $"{response.Description} {ReadOnlyRegionDescription}";
        if (response.Content?.TryGetValue(OpenApiSchemas.ProblemMediaType, out var problem) == true)
        {
            // A problem 503 (ProblemFor): its `type` enum gets the read-only one.
            var type = problem.Schema is OpenApiSchema { Properties: { } properties } && properties.TryGetValue("type", out var t) && t is OpenApiSchema { Enum: { } values }
                ? values
                : throw new InvalidOperationException($"{operation.OperationId}: a 503 problem without a `type` enum; declare it with WithProblem.");
            var readOnly = Problems.TypePrefix + "read-only-region";
            if (!type.Any(v => v?.GetValue<string>() == readOnly))
            {
                type.Add(System.Text.Json.Nodes.JsonValue.Create(readOnly));
            }
        }
    }
}
