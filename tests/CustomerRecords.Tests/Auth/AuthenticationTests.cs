using System.Net;
using System.Net.Http.Headers;
using CustomerRecords.Api.Auth;

namespace CustomerRecords.Tests.Auth;

public sealed class AuthenticationTests : IAsyncLifetime
{
    private static readonly string[] BothScopes = ["customers:read", "customers:write"];
    private readonly string _readerKey = ApiKeyHash.GenerateKey();
    private readonly string _writerKey = ApiKeyHash.GenerateKey();
    private SecurityTestHost _host = null!;

    public async Task InitializeAsync() => _host = await SecurityTestHost.StartAsync(SecurityTestHost.SecuredConfig(_readerKey, _writerKey));

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Theory]
    [MemberData(nameof(ProtectedRoutes.All), MemberType = typeof(ProtectedRoutes))]
    public async Task ProtectedRouteWithoutCredentialsReturns401ProblemWithChallenge(string method, string path, string scope)
    {
        _ = scope;
        using var response = await _host.Client.SendAsync(ProtectedRoutes.Request(method, path));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var challenges = response.Headers.WwwAuthenticate.Select(c => c.Scheme).ToList();
        Assert.Contains("Bearer", challenges);
        Assert.Contains("ApiKey", challenges);
    }

    [Theory]
    [MemberData(nameof(ProtectedRoutes.WriteRoutes), MemberType = typeof(ProtectedRoutes))]
    public async Task ReadOnlyApiKeyOnWriteRouteReturns403Problem(string method, string path)
    {
        using var request = ProtectedRoutes.Request(method, path);
        request.Headers.Add("X-Api-Key", _readerKey);
        using var response = await _host.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [MemberData(nameof(ProtectedRoutes.WriteRoutes), MemberType = typeof(ProtectedRoutes))]
    public async Task ReadOnlyTokenOnWriteRouteReturns403(string method, string path)
    {
        using var request = ProtectedRoutes.Request(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", TestTokens.Create("customers:read"));
        using var response = await _host.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Theory]
    [MemberData(nameof(ProtectedRoutes.All), MemberType = typeof(ProtectedRoutes))]
    public async Task WriterApiKeyReachesEveryRoute(string method, string path, string scope)
    {
        _ = scope;
        using var request = ProtectedRoutes.Request(method, path);
        request.Headers.Add("X-Api-Key", _writerKey);
        using var response = await _host.Client.SendAsync(request);

        Assert.True(response.IsSuccessStatusCode, $"{method} {path}: {response.StatusCode}");
    }

    [Fact]
    public async Task ReadOnlyApiKeyCanRead()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/customers");
        request.Headers.Add("X-Api-Key", _readerKey);
        using var response = await _host.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("crk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("not-a-key")]
    [InlineData("")]
    public async Task UnknownApiKeyReturns401(string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/customers");
        request.Headers.TryAddWithoutValidation("X-Api-Key", key);
        using var response = await _host.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains(response.Headers.WwwAuthenticate, c => c.Scheme == "ApiKey");
    }

    [Fact]
    public async Task ValidReadTokenCanRead()
    {
        using var response = await SendWithToken(HttpMethod.Get, "/customers", TestTokens.Create("customers:read"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task WriteScopeInScpArrayClaimCanWrite()
    {
        var token = TestTokens.Create(scope: null, extraClaims: new Dictionary<string, object> { ["scp"] = BothScopes });
        using var response = await SendWithToken(HttpMethod.Delete, "/customers/1", token);
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
    }

    public static TheoryData<string, string> InvalidTokens => new()
    {
        { "expired", TestTokens.Create(notBefore: DateTime.UtcNow.AddHours(-2), expires: DateTime.UtcNow.AddHours(-1)) },
        { "not yet valid", TestTokens.Create(notBefore: DateTime.UtcNow.AddHours(1), expires: DateTime.UtcNow.AddHours(2)) },
        { "wrong issuer", TestTokens.Create(issuer: "https://evil.test/pool") },
        { "wrong audience", TestTokens.Create(audience: "some-other-api") },
        { "no audience", TestTokens.Create(audience: null) },
        { "tampered payload", TestTokens.Tampered() },
        { "alg none", TestTokens.Unsigned() },
        { "untrusted key", TestTokens.Create(key: TestTokens.UntrustedKey) },
        { "HS256 shared secret", TestTokens.SymmetricallySigned() },
        { "garbage", "not.a.jwt" },
    };

    [Theory]
    [MemberData(nameof(InvalidTokens))]
    public async Task InvalidTokenReturns401WithInvalidTokenChallenge(string why, string token)
    {
        using var response = await SendWithToken(HttpMethod.Get, "/customers", token);

        Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, why);
        var bearer = Assert.Single(response.Headers.WwwAuthenticate, c => c.Scheme == "Bearer");
        Assert.Equal("error=\"invalid_token\"", bearer.Parameter);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task HealthStaysAnonymous()
    {
        using var response = await _host.Client.GetAsync(new Uri("/health/live", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task UnmappedRouteIsDeniedByDefault()
    {
        using var response = await _host.Client.GetAsync(new Uri("/admin/export", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    private async Task<HttpResponseMessage> SendWithToken(HttpMethod method, string path, string token)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
        return await _host.Client.SendAsync(request);
    }
}
