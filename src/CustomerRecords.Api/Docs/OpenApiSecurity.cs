using CustomerRecords.Api.Auth;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;

namespace CustomerRecords.Api.Docs;

/// <summary>
/// Both security schemes are always in the document, each saying whether this instance has it configured;
/// the document's own security is <c>[{}]</c> — no credentials — which holds while the instance runs open and for
/// anonymous endpoints; every other operation states the configured schemes with the scope its policy requires
/// (plus the 401/403 answers).
/// Registered by AddApiDocs.
/// </summary>
internal sealed class OpenApiSecurityTransformer(IOptions<AuthOptions> auth) : IOpenApiDocumentTransformer, IOpenApiOperationTransformer
{
    internal const string BearerScheme = "Bearer";

    private const string NotConfigured = "Not configured on this instance";

    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        var options = auth.Value;
        var open = options.AuthenticationConfigured
            ? string.Empty
            : " No scheme is configured, so this instance requires no credentials (it serves only on loopback unless Auth:AllowAnonymous is set).";
        document.AddComponent<IOpenApiSecurityScheme>(BearerScheme, new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            BearerFormat = "JWT",
            Description = options.JwtEnabled
                ? $"Access token from {options.Jwt.Authority} with scope {Scopes.Read} and/or {Scopes.Write}."
                : $"{NotConfigured} (set Auth:Jwt:Authority): an OIDC access token with scope {Scopes.Read} and/or {Scopes.Write}.{open}",
        });
        document.AddComponent<IOpenApiSecurityScheme>(ApiKeyAuthenticationHandler.SchemeName, new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.ApiKey,
            In = ParameterLocation.Header,
            Name = ApiKeyAuthenticationHandler.HeaderName,
            Description = options.ApiKeysEnabled
                ? "API key of a service client; its configured scopes apply."
                : $"{NotConfigured} (set Auth:ApiKeys): the API key of a service client, whose configured scopes apply.{open}",
        });
        // An empty requirement: no credentials. Operations that need some say so themselves.
        document.Security = [new OpenApiSecurityRequirement()];
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
        var document = context.Document!;
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
        operation.Responses.TryAdd("401", OpenApiOperations.Problem(
            document, StatusCodes.Status401Unauthorized, "Missing or invalid credentials; `WWW-Authenticate` names the accepted schemes.",
            ["unauthorized"], ResponseHeader.WwwAuthenticate));
        if (scopes.Count > 0)
        {
            operation.Responses.TryAdd("403", OpenApiOperations.Problem(
                document, StatusCodes.Status403Forbidden, $"The credentials lack scope {string.Join(", ", scopes)}.", ["forbidden"]));
        }

        return Task.CompletedTask;
    }
}
