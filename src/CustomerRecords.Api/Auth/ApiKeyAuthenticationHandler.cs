using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace CustomerRecords.Api.Auth;

/// <summary>Authenticates service clients by the <c>X-Api-Key</c> header against configured key hashes.</summary>
internal sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    IOptionsMonitor<AuthOptions> auth)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string HeaderName = "X-Api-Key";

    /// <summary>Claim carrying the API client's name; also marks a principal as an API-key client.</summary>
    public const string ClientClaim = "api_client";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!Request.Headers.TryGetValue(HeaderName, out var values))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        var presented = values.Count == 1 ? values[0] : null;
        if (string.IsNullOrEmpty(presented) || presented.Length > ApiKeyHash.MaxKeyLength)
        {
            AuthLog.ApiKeyRejected(Logger);
            return Task.FromResult(AuthenticateResult.Fail("Invalid API key."));
        }

        var digest = ApiKeyHash.Digest(presented);
        ApiKeyOptions? match = null;
        // Compare against every key without stopping early, so timing does not tell which entry matched.
        foreach (var key in auth.CurrentValue.ApiKeys)
        {
            if (ApiKeyHash.TryParse(key.Hash, out var expected) && CryptographicOperations.FixedTimeEquals(digest, expected))
            {
                match ??= key;
            }
        }

        if (match is null)
        {
            AuthLog.ApiKeyRejected(Logger);
            return Task.FromResult(AuthenticateResult.Fail("Invalid API key."));
        }

        var claims = new List<Claim>
        {
            new(ClaimTypes.Name, match.Name),
            new(ClientClaim, match.Name),
        };
        claims.AddRange(match.Scopes.Select(s => new Claim(ScopeAuthorization.ApiKeyScopeClaim, s)));
        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName));
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName)));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.Append("WWW-Authenticate", ChallengeValue);
        return Task.CompletedTask;
    }

    /// <summary>The <c>WWW-Authenticate</c> challenge for API keys.</summary>
    public const string ChallengeValue = $"ApiKey header=\"{HeaderName}\"";
}
