using CustomerRecords.Api.Auth;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;

namespace CustomerRecords.Api.Admin;

/// <summary>The issuer's endpoints the page signs in with (authorization code + PKCE).</summary>
/// <param name="AuthorizationEndpoint">Where the browser is sent to sign in.</param>
/// <param name="TokenEndpoint">Where the page exchanges the code for tokens (a cross-origin fetch, hence in the page's CSP).</param>
internal sealed record OidcEndpoints(Uri AuthorizationEndpoint, Uri TokenEndpoint);

/// <summary>
/// The OIDC side of the admin page: whether it is configured, and the issuer's endpoints read from the same
/// discovery document (and cache) JWT bearer validation uses, so the page and the API trust one issuer.
/// </summary>
internal sealed class AdminSignIn(
    IOptions<AuthOptions> auth,
    IOptions<AdminOptions> admin,
    IOptionsMonitor<JwtBearerOptions> jwt,
    ILogger<AdminSignIn> logger)
{
    /// <summary>True when the page signs in at the OIDC issuer: <c>Auth:Jwt:Authority</c> and <c>Auth:Admin:ClientId</c> are set.</summary>
    public bool Configured => auth.Value.JwtEnabled && !string.IsNullOrWhiteSpace(admin.Value.ClientId);

    /// <summary>The issuer's endpoints, or null when discovery fails or lacks them (logged; the caller answers 503).</summary>
    public async Task<OidcEndpoints?> EndpointsAsync(CancellationToken ct)
    {
        if (!Configured)
        {
            return null;
        }

        var manager = jwt.Get(JwtBearerDefaults.AuthenticationScheme).ConfigurationManager;
        if (manager is null)
        {
            AdminLog.DiscoveryFailed(logger, "a configuration manager", "JWT bearer is not configured");
            return null;
        }

        OpenIdConnectConfiguration configuration;
        try
        {
            configuration = await manager.GetConfigurationAsync(ct);
        }
        catch (Exception e) when (e is InvalidOperationException or HttpRequestException or IOException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            AdminLog.DiscoveryFailed(logger, "its endpoints", e.GetType().Name);
            return null;
        }

        if (!Endpoint(configuration.AuthorizationEndpoint, out var authorize) || !Endpoint(configuration.TokenEndpoint, out var token))
        {
            AdminLog.DiscoveryFailed(logger, "authorization_endpoint or token_endpoint", "missing or not an allowed absolute URL");
            return null;
        }

        return new OidcEndpoints(authorize, token);
    }

    private bool Endpoint(string? text, out Uri uri)
    {
        uri = null!;
        if (!Uri.TryCreate(text, UriKind.Absolute, out var parsed) || !string.IsNullOrEmpty(parsed.Fragment))
        {
            return false;
        }

        // Plain http only for a local test issuer, as for the metadata itself.
        var allowed = parsed.Scheme == Uri.UriSchemeHttps || (parsed.Scheme == Uri.UriSchemeHttp && !auth.Value.Jwt.RequireHttpsMetadata);
        uri = parsed;
        return allowed;
    }
}
