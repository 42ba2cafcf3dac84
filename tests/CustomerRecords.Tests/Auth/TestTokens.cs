using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace CustomerRecords.Tests.Auth;

/// <summary>Mints JWTs with a test RSA key that the test host trusts as if its OIDC authority had published it.</summary>
internal static class TestTokens
{
    public const string Issuer = "https://issuer.test/pool";
    public const string Audience = "customer-records-client";

    public static RsaSecurityKey SigningKey { get; } = new(RSA.Create(2048)) { KeyId = "test-key-1" };

    /// <summary>A key the service does not trust, with the same key id.</summary>
    public static RsaSecurityKey UntrustedKey { get; } = new(RSA.Create(2048)) { KeyId = "test-key-1" };

    public static string Create(
        string? scope = "customers:read",
        string issuer = Issuer,
        string? audience = Audience,
        DateTime? notBefore = null,
        DateTime? expires = null,
        SecurityKey? key = null,
        string subject = "user-123",
        IDictionary<string, object>? extraClaims = null)
    {
        var now = DateTime.UtcNow;
        var claims = new Dictionary<string, object> { ["sub"] = subject };
        if (scope is not null)
        {
            claims["scope"] = scope;
        }

        foreach (var (name, value) in extraClaims ?? new Dictionary<string, object>())
        {
            claims[name] = value;
        }

        var nbf = notBefore ?? now.AddMinutes(-1);
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            IssuedAt = nbf < now ? nbf : now,
            NotBefore = nbf,
            Expires = expires ?? now.AddMinutes(10),
            Claims = claims,
            SigningCredentials = new SigningCredentials(key ?? SigningKey, key is SymmetricSecurityKey ? SecurityAlgorithms.HmacSha256 : SecurityAlgorithms.RsaSha256),
        };
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(descriptor);
    }

    /// <summary>An unsigned token (<c>alg: none</c>) with a write scope.</summary>
    public static string Unsigned()
    {
        var header = Base64UrlEncoder.Encode("""{"alg":"none","typ":"JWT"}""");
        var exp = DateTimeOffset.UtcNow.AddMinutes(10).ToUnixTimeSeconds();
        var payload = Base64UrlEncoder.Encode(
            $$"""{"iss":"{{Issuer}}","aud":"{{Audience}}","sub":"mallory","scope":"customers:read customers:write","exp":{{exp}}}""");
        return $"{header}.{payload}.";
    }

    /// <summary>A validly signed read token whose payload was then changed to grant write.</summary>
    public static string Tampered()
    {
        var parts = Create("customers:read").Split('.');
        var payload = Encoding.UTF8.GetString(Base64UrlEncoder.DecodeBytes(parts[1]))
            .Replace("customers:read", "customers:read customers:write", StringComparison.Ordinal);
        return $"{parts[0]}.{Base64UrlEncoder.Encode(payload)}.{parts[2]}";
    }

    /// <summary>An HS256 token keyed with a guessable secret.</summary>
    public static string SymmetricallySigned()
    {
        var key = new SymmetricSecurityKey(Encoding.UTF8.GetBytes(new string('k', 64)));
        return Create("customers:read customers:write", key: key);
    }

    public static ClaimsIdentity Identity(params Claim[] claims) => new(claims, "test");
}
