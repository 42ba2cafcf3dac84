using System.Runtime.CompilerServices;
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
        var options = auth.CurrentValue;
        var expected = ParsedHashes.GetValue(options, ParseHashes);
        ApiKeyOptions? match = null;
        // Compare against every key without stopping early, so timing does not tell which entry matched.
        for (var i = 0; i < expected.Length; i++)
        {
            if (expected[i] is { } hash && CryptographicOperations.FixedTimeEquals(digest, hash))
            {
                match ??= options.ApiKeys[i];
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
        foreach (var scope in match.Scopes)
        {
            claims.Add(new Claim(ScopeAuthorization.ApiKeyScopeClaim, scope));
        }

        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName));
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName)));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.Append("WWW-Authenticate", ChallengeValue);
        return Task.CompletedTask;
    }

    // Each settings snapshot's key hashes, decoded once instead of on every request (a reload makes a new snapshot).
    private static readonly ConditionalWeakTable<AuthOptions, byte[]?[]> ParsedHashes = new();

    private static byte[]?[] ParseHashes(AuthOptions options) =>
        [.. options.ApiKeys.Select(k => ApiKeyHash.TryParse(k.Hash, out var digest) ? digest : null)];

    /// <summary>The <c>WWW-Authenticate</c> challenge for API keys.</summary>
    public const string ChallengeValue = $"ApiKey header=\"{HeaderName}\"";
}
