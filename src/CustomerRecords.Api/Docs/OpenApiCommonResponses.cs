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
/// </summary>
internal sealed class OpenApiCommonResponses(IOptions<RateLimitOptions> rateLimit, IOptions<LimitsOptions> limits) : IOpenApiOperationTransformer
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
}
