using System.Net;
using System.Security.Claims;
using CustomerRecords.Api.Hosting;
using Microsoft.AspNetCore.Http;

namespace CustomerRecords.Tests.Auth;

/// <summary>Cognito access tokens: no <c>aud</c> (the app client id is in <c>client_id</c>) and resource-server-prefixed scopes.</summary>
public sealed class CognitoTokenTests
{
    private static Dictionary<string, string?> Config(bool audienceFromClientId) => new()
    {
        ["Auth:Jwt:Authority"] = TestTokens.Issuer,
        ["Auth:Jwt:Audience"] = TestTokens.Audience,
        ["Auth:Jwt:ScopePrefix"] = "customer-records/",
        ["Auth:Jwt:AudienceFromClientId"] = audienceFromClientId ? "true" : "false",
    };

    private static string AccessToken(string tokenUse = "access", string clientId = TestTokens.Audience) => TestTokens.Create(
        scope: "customer-records/customers:read",
        audience: null,
        subject: "svc-client",
        extraClaims: new Dictionary<string, object> { ["client_id"] = clientId, ["token_use"] = tokenUse });

    [Fact]
    public async Task AccessTokenWithMatchingClientIdAndPrefixedScopeIsAccepted()
    {
        await using var host = await SecurityTestHost.StartAsync(Config(audienceFromClientId: true));
        Assert.Equal(HttpStatusCode.OK, await Status(host, AccessToken()));
    }

    [Fact]
    public async Task PrefixedScopeStillOnlyGrantsWhatItNames()
    {
        await using var host = await SecurityTestHost.StartAsync(Config(audienceFromClientId: true));
        Assert.Equal(HttpStatusCode.Forbidden, await Status(host, AccessToken(), HttpMethod.Delete, "/customers/1"));
    }

    [Theory]
    [InlineData(false, "access", TestTokens.Audience)] // option off: aud is required
    [InlineData(true, "id", TestTokens.Audience)] // an ID token is not an access token
    [InlineData(true, "access", "another-app-client")] // another app client of the same pool
    public async Task OtherTokensWithoutAudienceAreRejected(bool audienceFromClientId, string tokenUse, string clientId)
    {
        await using var host = await SecurityTestHost.StartAsync(Config(audienceFromClientId));
        Assert.Equal(HttpStatusCode.Unauthorized, await Status(host, AccessToken(tokenUse, clientId)));
    }

    [Fact]
    public void RateLimitPartitionsPreferClientNameThenSubjectThenIpv6Prefix()
    {
        static string Key(System.Security.Claims.ClaimsIdentity? identity, string ip)
        {
            var context = new DefaultHttpContext();
            context.Connection.RemoteIpAddress = IPAddress.Parse(ip);
            if (identity is not null)
            {
                context.User = new System.Security.Claims.ClaimsPrincipal(identity);
            }

            return RateLimitingAccess.PartitionKey(context);
        }

        Assert.Equal("key:crm-sync", Key(TestTokens.Identity(new Claim("api_client", "crm-sync"), new Claim("sub", "x")), "192.0.2.1"));
        Assert.Equal("sub:user-1", Key(TestTokens.Identity(new Claim("sub", "user-1")), "192.0.2.1"));
        Assert.Equal("ip:192.0.2.1", Key(null, "::ffff:192.0.2.1"));
        Assert.Equal(Key(null, "2001:db8:1:2::10"), Key(null, "2001:db8:1:2:ffff::1"));
        Assert.NotEqual(Key(null, "2001:db8:1:2::10"), Key(null, "2001:db8:1:3::10"));
    }

    private static async Task<HttpStatusCode> Status(SecurityTestHost host, string token, HttpMethod? method = null, string path = "/customers")
    {
        using var request = new HttpRequestMessage(method ?? HttpMethod.Get, path);
        request.Headers.Authorization = new("Bearer", token);
        using var response = await host.Client.SendAsync(request);
        return response.StatusCode;
    }
}

internal static class RateLimitingAccess
{
    public static string PartitionKey(HttpContext context) => RateLimiting.PartitionKey(context);
}
