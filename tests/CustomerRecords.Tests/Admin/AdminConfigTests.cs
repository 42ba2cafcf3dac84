using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CustomerRecords.Api.Admin;
using CustomerRecords.Api.Auth;
using CustomerRecords.Tests.Auth;
using CustomerRecords.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace CustomerRecords.Tests.Admin;

/// <summary><c>GET /admin/config</c> (how the page signs in), <c>GET /admin/whoami</c> (who it is) and the <c>Auth:Admin</c> settings.</summary>
public sealed class AdminConfigTests
{
    private readonly string _readerKey = ApiKeyHash.GenerateKey();
    private readonly string _writerKey = ApiKeyHash.GenerateKey();

    [Fact]
    public async Task OpenModeConfigSaysOpen()
    {
        await using var factory = AdminHost.Open();
        var config = await Config(factory);

        Assert.Equal("open", (string?)config["mode"]);
        Assert.False((bool)config["api_keys"]!);
        Assert.Null(config["oidc"]);
    }

    [Fact]
    public async Task KeysModeConfigIsAnonymousAndOffersKeys()
    {
        await using var factory = AdminHost.Keys(_readerKey, _writerKey);
        var config = await Config(factory);

        Assert.Equal("keys", (string?)config["mode"]);
        Assert.True((bool)config["api_keys"]!);
        Assert.Null(config["oidc"]);
    }

    [Fact]
    public async Task OidcModeConfigGivesTheIssuerEndpointsClientAndDefaultScopes()
    {
        await using var factory = AdminHost.Oidc(_readerKey, new Dictionary<string, string?> { ["Auth:Admin:ClientId"] = AdminHost.PageClientId });
        var config = await Config(factory);

        Assert.Equal("oidc", (string?)config["mode"]);
        Assert.True((bool)config["api_keys"]!);
        var oidc = config["oidc"]!;
        Assert.Equal(AdminHost.AuthorizationEndpoint, (string?)oidc["authorization_endpoint"]);
        Assert.Equal(AdminHost.TokenEndpoint, (string?)oidc["token_endpoint"]);
        Assert.Equal(AdminHost.PageClientId, (string?)oidc["client_id"]);
        Assert.Equal("openid customers:read customers:write", (string?)oidc["scope"]);
        Assert.Equal("http://localhost/admin/callback", (string?)oidc["redirect_uri"]);
    }

    [Fact]
    public async Task AConfiguredRedirectUriIsTheOneThePageSendsWhateverTheRequestsHost()
    {
        await using var factory = AdminHost.Oidc(_readerKey, new Dictionary<string, string?>
        {
            ["Auth:Admin:ClientId"] = AdminHost.PageClientId,
            ["Auth:Admin:RedirectUri"] = "https://customers.example.com/admin/callback",
        });

        var config = await Config(factory);

        Assert.Equal("https://customers.example.com/admin/callback", (string?)config["oidc"]!["redirect_uri"]);
    }

    [Fact]
    public async Task DefaultScopesCarryTheScopePrefixAndConfiguredScopesWin()
    {
        await using (var prefixed = AdminHost.Oidc(_readerKey, new Dictionary<string, string?>
        {
            ["Auth:Admin:ClientId"] = AdminHost.PageClientId,
            ["Auth:Jwt:ScopePrefix"] = "customer-records/",
        }))
        {
            var config = await Config(prefixed);
            Assert.Equal("openid customer-records/customers:read customer-records/customers:write", (string?)config["oidc"]!["scope"]);
        }

        await using var configured = AdminHost.Oidc(_readerKey, new Dictionary<string, string?>
        {
            ["Auth:Admin:ClientId"] = AdminHost.PageClientId,
            ["Auth:Admin:Scopes"] = " openid   customers:read ",
        });
        Assert.Equal("openid customers:read", (string?)(await Config(configured))["oidc"]!["scope"]);
    }

    [Fact]
    public async Task JwtWithoutAPageClientOffersKeysOnly()
    {
        await using var factory = AdminHost.Oidc(_readerKey, new Dictionary<string, string?>());
        var config = await Config(factory);

        Assert.Equal("keys", (string?)config["mode"]);
        Assert.Null(config["oidc"]);
    }

    [Fact]
    public async Task WithoutTheIssuersEndpointsKeysStillSignIn()
    {
        await using var factory = AdminHost.Oidc(_readerKey, new Dictionary<string, string?> { ["Auth:Admin:ClientId"] = AdminHost.PageClientId },
            AdminHost.Discovery(token: null));

        var config = await Config(factory);

        Assert.Equal("keys", (string?)config["mode"]);
        Assert.True((bool)config["api_keys"]!);
        Assert.Null(config["oidc"]);
    }

    [Fact]
    public async Task ConfigIsAnUnavailableProblemWhenDiscoveryLacksTheEndpointsAndNoKeyCanSignIn()
    {
        await using var factory = AdminHost.Oidc(null, new Dictionary<string, string?> { ["Auth:Admin:ClientId"] = AdminHost.PageClientId },
            AdminHost.Discovery(token: null));
        using var client = factory.CreateClient();

        using var response = await client.GetAsync(new Uri("/admin/config", UriKind.Relative));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("5", response.Headers.GetValues("Retry-After").Single());
        var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("urn:customer-records:problem:unavailable", (string?)problem["type"]);
        Assert.Equal("Sign-in is unavailable", (string?)problem["title"]);
    }

    [Fact]
    public async Task WhoAmIListsEachKeysOwnScopes()
    {
        await using var factory = AdminHost.Keys(_readerKey, _writerKey);
        using var client = factory.CreateClient();

        var reader = await WhoAmI(client, _readerKey);
        Assert.Equal("key:reporting", (string?)reader["name"]);
        Assert.Equal([Scopes.Read], Strings(reader["scopes"]));

        var writer = await WhoAmI(client, _writerKey);
        Assert.Equal("key:support", (string?)writer["name"]);
        Assert.Equal([Scopes.Read, Scopes.Write, Scopes.Erase], Strings(writer["scopes"]));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("crk_not-a-configured-key")]
    public async Task WhoAmIWithoutAValidKeyIsUnauthorized(string? key)
    {
        await using var factory = AdminHost.Keys(_readerKey, _writerKey);
        using var client = factory.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/admin/whoami");
        if (key is not null)
        {
            request.Headers.Add("X-Api-Key", key);
        }

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task WhoAmIInOpenModeIsAnonymousWithEveryScope()
    {
        await using var factory = AdminHost.Open();
        using var client = factory.CreateClient();

        var me = await client.GetFromJsonAsync<JsonNode>(new Uri("/admin/whoami", UriKind.Relative));

        Assert.Equal("anonymous", (string?)me!["name"]);
        Assert.Equal(Scopes.All, Strings(me["scopes"]));
    }

    [Fact]
    public async Task WhoAmIReadsABearerTokensPrefixedScopesLikeTheApi()
    {
        await using var factory = AdminHost.Oidc(_readerKey, new Dictionary<string, string?>
        {
            ["Auth:Admin:ClientId"] = AdminHost.PageClientId,
            ["Auth:Jwt:ScopePrefix"] = "customer-records/",
        });
        using var client = factory.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/admin/whoami");
        request.Headers.Authorization = new("Bearer", TestTokens.Create(scope: "openid customer-records/customers:read customers:erase-not", subject: "staff-7"));

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var me = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("user:staff-7", (string?)me["name"]);
        Assert.Equal([Scopes.Read], Strings(me["scopes"]));
    }

    [Fact]
    public async Task AdminRoutesStayOutOfTheOpenApiDocument()
    {
        await using var factory = AdminHost.Open();
        using var client = factory.CreateClient();

        var document = await client.GetFromJsonAsync<JsonNode>(new Uri("/openapi/v1.json", UriKind.Relative));

        var paths = document!["paths"]!.AsObject().Select(p => p.Key).ToList();
        Assert.Contains("/customers", paths);
        Assert.DoesNotContain(paths, p => p.StartsWith("/admin", StringComparison.Ordinal));
    }

    public static TheoryData<string, string?, string> InvalidSettings => new()
    {
        // setting, value, text the error must name
        { "Auth:Admin:ClientId", "page client", "Auth:Admin:ClientId" },
        { "Auth:Jwt:AudienceFromClientId", "true", "Auth:Admin:ClientId must equal Auth:Jwt:Audience" },
        { "Auth:Admin:Scopes", "openid\ncustomers:read", "Auth:Admin:Scopes" },
        { "Auth:Admin:RedirectUri", "http://customers.example.com/admin/callback", "Auth:Admin:RedirectUri" },
        { "Auth:Admin:RedirectUri", "https://customers.example.com/other/callback", "Auth:Admin:RedirectUri" },
        { "Auth:Admin:RedirectUri", "https://customers.example.com/admin/callback?next=1", "Auth:Admin:RedirectUri" },
        { "Auth:Admin:RedirectUri", "/admin/callback", "Auth:Admin:RedirectUri" },
    };

    [Theory]
    [MemberData(nameof(InvalidSettings))]
    public async Task InvalidAdminSettingStopsStartUpNamingIt(string setting, string? value, string named)
    {
        var message = await StartFailureAsync(jwt: true, new Dictionary<string, string?>
        {
            ["Auth:Admin:ClientId"] = AdminHost.PageClientId,
            [setting] = value,
        });

        Assert.Contains(named, message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PageClientWithoutAnIssuerStopsStartUp()
    {
        var message = await StartFailureAsync(jwt: false, new Dictionary<string, string?> { ["Auth:Admin:ClientId"] = AdminHost.PageClientId });

        Assert.Contains("Auth:Admin:ClientId is set but Auth:Jwt:Authority is not", message, StringComparison.Ordinal);
    }

    /// <summary>
    /// The validation failure of starting the request edge with the admin page's settings (API keys, with <paramref name="jwt"/>
    /// the test issuer, then <paramref name="extra"/>). The edge alone, not the whole app: a whole app whose start fails can
    /// surface a disposed-provider error of a background service instead of the settings error.
    /// </summary>
    private async Task<string> StartFailureAsync(bool jwt, IDictionary<string, string?> extra)
    {
        var config = SecurityTestHost.SecuredConfig(_readerKey, _writerKey);
        if (!jwt)
        {
            config.Remove("Auth:Jwt:Authority");
            config.Remove("Auth:Jwt:Audience");
        }

        foreach (var (key, value) in extra)
        {
            config[key] = value;
        }

        var error = await Assert.ThrowsAnyAsync<Exception>(() => SecurityTestHost.StartAsync(config, builder => builder.AddAdmin()));
        var validation = error as OptionsValidationException ?? error.InnerException as OptionsValidationException
            ?? (error as AggregateException)?.Flatten().InnerExceptions.OfType<OptionsValidationException>().FirstOrDefault();
        Assert.True(validation is not null, $"start failed with {error.GetType().Name}, not a settings error: {error.Message}");
        return string.Join(" ", validation.Failures);
    }

    private static async Task<JsonNode> Config(CustomerApiFactory factory)
    {
        using var client = factory.CreateClient();
        using var response = await client.GetAsync(new Uri("/admin/config", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
    }

    private static async Task<JsonNode> WhoAmI(HttpClient client, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/admin/whoami");
        request.Headers.Add("X-Api-Key", key);
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
    }

    private static string[] Strings(JsonNode? array) => array!.AsArray().Select(n => (string)n!).ToArray();
}
