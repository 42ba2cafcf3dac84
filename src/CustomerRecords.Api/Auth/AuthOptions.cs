using Microsoft.Extensions.Options;

namespace CustomerRecords.Api.Auth;

/// <summary>
/// Who may call the API (configuration section <c>Auth</c>). With neither <see cref="Jwt"/> nor
/// <see cref="ApiKeys"/> configured the service runs open, and only while it listens on loopback
/// unless <see cref="AllowAnonymous"/> is set.
/// </summary>
public sealed class AuthOptions
{
    /// <summary>Configuration section name.</summary>
    public const string Section = "Auth";

    /// <summary>JWT bearer tokens from an OIDC issuer (e.g. Amazon Cognito).</summary>
    public JwtOptions Jwt { get; set; } = new();

    /// <summary>API keys for service clients, sent in the <c>X-Api-Key</c> header; only their hashes are configured.</summary>
    public IList<ApiKeyOptions> ApiKeys { get; } = new List<ApiKeyOptions>();

    /// <summary>
    /// Run without authentication even on a non-loopback address. Default false. Only meaningful when
    /// neither <c>Auth:Jwt:Authority</c> nor <c>Auth:ApiKeys</c> is configured.
    /// </summary>
    public bool AllowAnonymous { get; set; }

    /// <summary>True when JWT bearer authentication is configured.</summary>
    public bool JwtEnabled => !string.IsNullOrWhiteSpace(Jwt.Authority);

    /// <summary>True when at least one API key is configured.</summary>
    public bool ApiKeysEnabled => ApiKeys.Count > 0;

    /// <summary>True when any authentication scheme is configured; false means the API runs open.</summary>
    public bool AuthenticationConfigured => JwtEnabled || ApiKeysEnabled;
}

/// <summary>JWT bearer settings (configuration section <c>Auth:Jwt</c>).</summary>
public sealed class JwtOptions
{
    /// <summary>
    /// OIDC issuer URL; its discovery document supplies the issuer and signing keys. For Cognito:
    /// <c>https://cognito-idp.{region}.amazonaws.com/{userPoolId}</c>. Empty disables JWT authentication.
    /// </summary>
    public string? Authority { get; set; }

    /// <summary>Expected <c>aud</c> of tokens (for Cognito, the app client id). Required with <see cref="Authority"/>.</summary>
    public string? Audience { get; set; }

    /// <summary>
    /// Claim that carries the scopes. Default: both <c>scope</c> (space-separated, Cognito/RFC 8693) and <c>scp</c>.
    /// </summary>
    public string? ScopeClaim { get; set; }

    /// <summary>
    /// Prefix the issuer puts before scope names, e.g. a Cognito resource-server identifier
    /// <c>customer-records/</c> so that <c>customer-records/customers:read</c> grants <c>customers:read</c>.
    /// </summary>
    public string? ScopePrefix { get; set; }

    /// <summary>
    /// Accept an access token without <c>aud</c> whose <c>client_id</c> equals <see cref="Audience"/> and whose
    /// <c>token_use</c> is <c>access</c>: Cognito access tokens carry no <c>aud</c>. Default false.
    /// </summary>
    public bool AudienceFromClientId { get; set; }

    /// <summary>Require the authority's metadata over HTTPS. Default true; turn off only for a local test issuer.</summary>
    public bool RequireHttpsMetadata { get; set; } = true;

    /// <summary>Tolerated clock difference when checking <c>exp</c>/<c>nbf</c>. Default 1 minute.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromMinutes(1);
}

/// <summary>One API key (an entry of <c>Auth:ApiKeys</c>).</summary>
public sealed class ApiKeyOptions
{
    /// <summary>Client name; appears in logs and is the rate-limit partition. Never the key itself.</summary>
    public string Name { get; set; } = "";

    /// <summary>
    /// <c>sha256:&lt;base64url&gt;</c> hash of the key, printed by <c>CustomerRecords.Api hash-key</c> or
    /// <c>generate-key</c>. The key itself is never configured.
    /// </summary>
    public string Hash { get; set; } = "";

    /// <summary>Scopes granted to this client: <c>customers:read</c> and/or <c>customers:write</c>.</summary>
    public IList<string> Scopes { get; } = new List<string>();
}

/// <summary>Start-up validation of <see cref="AuthOptions"/>. Messages name settings, never values.</summary>
internal sealed class AuthOptionsValidator : IValidateOptions<AuthOptions>
{
    public ValidateOptionsResult Validate(string? name, AuthOptions options)
    {
        var failures = new List<string>();
        var jwt = options.Jwt;
        if (options.JwtEnabled)
        {
            if (!Uri.TryCreate(jwt.Authority, UriKind.Absolute, out var authority)
                || (authority.Scheme != Uri.UriSchemeHttps && (jwt.RequireHttpsMetadata || authority.Scheme != Uri.UriSchemeHttp)))
            {
                failures.Add("Auth:Jwt:Authority must be an absolute https:// URL of the token issuer (e.g. https://cognito-idp.<region>.amazonaws.com/<userPoolId>).");
            }

            if (string.IsNullOrWhiteSpace(jwt.Audience))
            {
                failures.Add("Auth:Jwt:Audience is required when Auth:Jwt:Authority is set (for Cognito: the app client id).");
            }

            if (jwt.ClockSkew < TimeSpan.Zero || jwt.ClockSkew > TimeSpan.FromMinutes(5))
            {
                failures.Add("Auth:Jwt:ClockSkew must be between 00:00:00 and 00:05:00.");
            }
        }
        else if (!string.IsNullOrWhiteSpace(jwt.Audience))
        {
            failures.Add("Auth:Jwt:Audience is set but Auth:Jwt:Authority is not; set the issuer URL in Auth:Jwt:Authority.");
        }

        var hashes = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < options.ApiKeys.Count; i++)
        {
            var key = options.ApiKeys[i];
            if (string.IsNullOrWhiteSpace(key.Name))
            {
                failures.Add($"Auth:ApiKeys:{i}:Name is required (the client's name).");
            }

            if (!ApiKeyHash.TryParse(key.Hash, out _))
            {
                // Never echo the value: it may be a plaintext key pasted by mistake.
                failures.Add($"Auth:ApiKeys:{i}:Hash must have the form sha256:<43 base64url characters>; store the output of 'CustomerRecords.Api hash-key', never the key itself.");
            }
            else if (!hashes.Add(key.Hash))
            {
                failures.Add($"Auth:ApiKeys:{i}:Hash duplicates another entry's hash.");
            }

            if (key.Scopes.Count == 0)
            {
                failures.Add($"Auth:ApiKeys:{i}:Scopes must list at least one of: {string.Join(", ", Scopes.All)}.");
            }
            else if (key.Scopes.Any(s => !Scopes.All.Contains(s)))
            {
                failures.Add($"Auth:ApiKeys:{i}:Scopes may only contain: {string.Join(", ", Scopes.All)}.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
