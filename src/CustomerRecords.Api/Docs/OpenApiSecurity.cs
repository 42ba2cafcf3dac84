using CustomerRecords.Api.Auth;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;

namespace CustomerRecords.Api.Docs;

/// <summary>
/// Describes the configured security schemes in every OpenAPI document and, per operation, the scope its
/// policy requires plus the 401/403 answers. Registered by AddApiDocs.
/// </summary>
internal sealed class OpenApiSecurityTransformer(IOptions<AuthOptions> auth) : IOpenApiDocumentTransformer, IOpenApiOperationTransformer
{
    internal const string BearerScheme = "Bearer";

    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        var options = auth.Value;
        if (options.JwtEnabled)
        {
            document.AddComponent<IOpenApiSecurityScheme>(BearerScheme, new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                BearerFormat = "JWT",
                Description = $"Access token from {options.Jwt.Authority} with scope {Scopes.Read} and/or {Scopes.Write}.",
            });
        }

        if (options.ApiKeysEnabled)
        {
            document.AddComponent<IOpenApiSecurityScheme>(ApiKeyAuthenticationHandler.SchemeName, new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey,
                In = ParameterLocation.Header,
                Name = ApiKeyAuthenticationHandler.HeaderName,
                Description = "API key of a service client; its configured scopes apply.",
            });
        }

        return Task.CompletedTask;
    }

    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var options = auth.Value;
        var metadata = context.Description.ActionDescriptor.EndpointMetadata;
        if (!options.AuthenticationConfigured || metadata.OfType<IAllowAnonymous>().Any())
        {
            return Task.CompletedTask;
        }

        var scopes = metadata.OfType<IAuthorizeData>()
            .Select(a => a.Policy)
            .Where(p => p is not null && Scopes.All.Contains(p))
            .Select(p => p!)
            .Distinct()
            .ToList();
        var document = context.Document;
        operation.Security ??= [];
        if (options.JwtEnabled)
        {
            operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerScheme, document)] = scopes });
        }

        if (options.ApiKeysEnabled)
        {
            operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(ApiKeyAuthenticationHandler.SchemeName, document)] = scopes });
        }

        operation.Responses ??= [];
        operation.Responses.TryAdd("401", new OpenApiResponse { Description = "Missing or invalid credentials (problem details, WWW-Authenticate)." });
        if (scopes.Count > 0)
        {
            operation.Responses.TryAdd("403", new OpenApiResponse { Description = $"Credentials lack scope {string.Join(", ", scopes)}." });
        }

        operation.Responses.TryAdd("429", new OpenApiResponse { Description = "Rate limit exceeded; see Retry-After." });
        return Task.CompletedTask;
    }
}
