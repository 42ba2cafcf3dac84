using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace CustomerRecords.Tests.Admin.Browser;

/// <summary>
/// The test issuer's own checks, so a broken issuer cannot make the OIDC browser test pass vacuously: the code goes
/// only to the verifier whose S256 hash is the challenge, once, for the same client and redirect URI.
/// </summary>
public sealed partial class TestIssuerTests : IAsyncLifetime
{
    private const string Verifier = "a-verifier-of-enough-length-0123456789-abcdefghijklmnop";
    private static readonly Uri Page = new("http://127.0.0.1:1/");
    private TestIssuer _issuer = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _issuer = await TestIssuer.StartAsync();
        _issuer.AllowPage(Page);
        _http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(_issuer.Issuer) };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _issuer.DisposeAsync();
    }

    [Fact]
    public async Task TheRightVerifierGetsATokenOnce()
    {
        var code = await CodeAsync();

        using var first = await TokenAsync(code, Verifier);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var body = JsonNode.Parse(await first.Content.ReadAsStringAsync())!;
        Assert.Equal("Bearer", (string?)body["token_type"]);
        Assert.False(string.IsNullOrEmpty((string?)body["access_token"]));

        using var again = await TokenAsync(code, Verifier);
        Assert.Equal(HttpStatusCode.BadRequest, again.StatusCode);
        Assert.Equal(1, _issuer.TokensIssued);
    }

    [Fact]
    public async Task AWrongVerifierIsRefusedAndUsesUpTheCode()
    {
        var code = await CodeAsync();

        using var wrong = await TokenAsync(code, Verifier + "x");
        Assert.Equal(HttpStatusCode.BadRequest, wrong.StatusCode);
        Assert.Equal("invalid_grant", (string?)JsonNode.Parse(await wrong.Content.ReadAsStringAsync())!["error"]);

        using var right = await TokenAsync(code, Verifier);
        Assert.Equal(HttpStatusCode.BadRequest, right.StatusCode);
        Assert.Equal(0, _issuer.TokensIssued);
    }

    [Fact]
    public async Task AnotherRedirectUriIsRefused()
    {
        var code = await CodeAsync();

        using var wrong = await TokenAsync(code, Verifier, redirectUri: "http://127.0.0.1:2/admin/callback");

        Assert.Equal(HttpStatusCode.BadRequest, wrong.StatusCode);
    }

    [Fact]
    public async Task AuthorizeRefusesPlainChallenges()
    {
        using var response = await _http.GetAsync(new Uri(AuthorizeQuery(method: "plain"), UriKind.Relative));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    private static string AuthorizeQuery(string method = "S256") =>
        $"/authorize?response_type=code&client_id=admin-page-test-client&redirect_uri={Uri.EscapeDataString(Page + "admin/callback")}" +
        $"&code_challenge={TestIssuer.Challenge(Verifier)}&code_challenge_method={method}&state=s1&scope=openid";

    private async Task<string> CodeAsync()
    {
        var html = await _http.GetStringAsync(new Uri(AuthorizeQuery(), UriKind.Relative));
        var action = FormAction().Match(html).Groups[1].Value;
        using var signIn = await _http.PostAsync(new Uri(action, UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        var location = signIn.Headers.Location!;
        Assert.StartsWith(Page + "admin/callback?", location.ToString(), StringComparison.Ordinal);
        Assert.Contains("state=s1", location.Query, StringComparison.Ordinal);
        return Uri.UnescapeDataString(CodeParameter().Match(location.Query).Groups[1].Value);
    }

    private Task<HttpResponseMessage> TokenAsync(string code, string verifier, string? redirectUri = null) =>
        _http.PostAsync(new Uri("/token", UriKind.Relative), new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code",
            ["code"] = code,
            ["client_id"] = "admin-page-test-client",
            ["redirect_uri"] = redirectUri ?? Page + "admin/callback",
            ["code_verifier"] = verifier,
        }));

    [GeneratedRegex("action=\"([^\"]+)\"")]
    private static partial Regex FormAction();

    [GeneratedRegex("code=([^&]+)")]
    private static partial Regex CodeParameter();
}
