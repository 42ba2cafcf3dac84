using System.Net;
using System.Text.Json;
using CustomerRecords.Api.Auth;
using CustomerRecords.Api.Docs;
using CustomerRecords.Tests.Auth;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace CustomerRecords.Tests.Hosting;

public sealed class ResponseHardeningTests
{
    [Theory]
    [InlineData("/health/live")]
    [InlineData("/customers")] // 401
    [InlineData("/nowhere")]
    public async Task EveryResponseCarriesSecurityHeaders(string path)
    {
        await using var host = await SecurityTestHost.StartAsync(SecurityTestHost.SecuredConfig(ApiKeyHash.GenerateKey(), ApiKeyHash.GenerateKey()));
        using var response = await host.Client.GetAsync(new Uri(path, UriKind.Relative));

        Assert.Equal("nosniff", Header(response, "X-Content-Type-Options"));
        Assert.Equal("DENY", Header(response, "X-Frame-Options"));
        Assert.Equal("no-referrer", Header(response, "Referrer-Policy"));
        Assert.Equal("default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'", Header(response, "Content-Security-Policy"));
        Assert.Equal("no-store", Header(response, "Cache-Control"));
    }

    [Fact]
    public async Task DocsPageGetsAPolicyThatLetsItsScriptsRun()
    {
        await using var host = await SecurityTestHost.StartAsync(SecurityTestHost.SecuredConfig(ApiKeyHash.GenerateKey(), ApiKeyHash.GenerateKey()));
        using var response = await host.Client.GetAsync(new Uri("/docs", UriKind.Relative));

        var csp = Header(response, "Content-Security-Policy");
        Assert.Contains("script-src 'self' 'unsafe-inline'", csp, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
        Assert.Equal("DENY", Header(response, "X-Frame-Options"));
    }

    [Fact]
    public async Task ErrorResponsesCarryNoSqlStackTraceOrConnectionStringEvenInDevelopment()
    {
        await using var host = await SecurityTestHost.StartAsync(
            SecurityTestHost.SecuredConfig(ApiKeyHash.GenerateKey(), ApiKeyHash.GenerateKey()), environment: "Development");
        using var request = new HttpRequestMessage(HttpMethod.Get, "/boom");
        request.Headers.Authorization = new("Bearer", TestTokens.Create());
        request.Headers.Accept.ParseAdd("application/json");
        using var response = await host.Client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.DoesNotContain("SELECT", body, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("hunter2", body, StringComparison.Ordinal);
        Assert.DoesNotContain("Server=", body, StringComparison.Ordinal);
        Assert.DoesNotContain("SecurityTestHost", body, StringComparison.Ordinal); // no stack frames
    }

    [Fact]
    public async Task ErrorResponsesInProductionAreGenericProblems()
    {
        await using var host = await SecurityTestHost.StartAsync(SecurityTestHost.SecuredConfig(ApiKeyHash.GenerateKey(), ApiKeyHash.GenerateKey()));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/boom");
        request.Headers.Authorization = new("Bearer", TestTokens.Create());
        using var response = await host.Client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.DoesNotContain("SELECT", body, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(SecurityTestHost.TestEmail, body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ForwardedHeadersAreTakenOnlyFromKnownProxies()
    {
        var config = new Dictionary<string, string?>(SecurityTestHost.SecuredConfig(ApiKeyHash.GenerateKey(), ApiKeyHash.GenerateKey()))
        {
            ["Network:KnownNetworks:0"] = "10.0.0.0/16",
        };
        await using var host = await SecurityTestHost.StartAsync(config);
        var server = host.App.GetTestServer();

        var viaProxy = await WhoAmI(server, "10.0.3.4");
        var direct = await WhoAmI(server, "198.51.100.7");

        Assert.Equal("203.0.113.9", viaProxy.GetProperty("ip").GetString());
        Assert.Equal("https", viaProxy.GetProperty("scheme").GetString());
        Assert.Equal("198.51.100.7", direct.GetProperty("ip").GetString());
        Assert.Equal("http", direct.GetProperty("scheme").GetString());
    }

    [Fact]
    public async Task ForwardedHeadersAreIgnoredWithoutConfiguredProxiesEvenWhenTheFrameworkSwitchIsOn()
    {
        await using var host = await SecurityTestHost.StartAsync(
            SecurityTestHost.SecuredConfig(ApiKeyHash.GenerateKey(), ApiKeyHash.GenerateKey()),
            configureApp: app => app.UseForwardedHeaders()); // what ASPNETCORE_FORWARDEDHEADERS_ENABLED=true adds
        var result = await WhoAmI(host.App.GetTestServer(), "198.51.100.7");

        Assert.Equal("198.51.100.7", result.GetProperty("ip").GetString());
    }

    [Fact]
    public async Task HstsIsSentOnHttpsRequestsFromATrustedProxy()
    {
        var config = new Dictionary<string, string?>(SecurityTestHost.SecuredConfig(ApiKeyHash.GenerateKey(), ApiKeyHash.GenerateKey()))
        {
            ["Network:KnownProxies:0"] = "10.0.3.4",
        };
        await using var host = await SecurityTestHost.StartAsync(config);
        var context = await host.App.GetTestServer().SendAsync(c =>
        {
            c.Connection.RemoteIpAddress = IPAddress.Parse("10.0.3.4");
            c.Request.Method = "GET";
            c.Request.Path = "/health/live";
            c.Request.Host = new HostString("api.example.com");
            c.Request.Headers["X-Forwarded-Proto"] = "https";
            c.Request.Headers["X-Forwarded-For"] = "203.0.113.9";
        });

        Assert.Equal("max-age=31536000", context.Response.Headers.StrictTransportSecurity.ToString());
    }

    [Fact]
    public async Task HttpIsRedirectedToHttpsWhenTheServiceServesTls()
    {
        var config = new Dictionary<string, string?>(SecurityTestHost.SecuredConfig(ApiKeyHash.GenerateKey(), ApiKeyHash.GenerateKey()))
        {
            ["urls"] = "https://localhost:5001",
            ["https_port"] = "5001",
        };
        await using var host = await SecurityTestHost.StartAsync(config);
        using var response = await host.Client.GetAsync(new Uri("/health/live", UriKind.Relative));

        Assert.Equal(HttpStatusCode.TemporaryRedirect, response.StatusCode);
        Assert.Equal("https://localhost:5001/health/live", response.Headers.Location?.ToString());
    }

    [Fact]
    public async Task RequestsRunningTooLongAreCancelledWith504()
    {
        var config = new Dictionary<string, string?>(SecurityTestHost.SecuredConfig(ApiKeyHash.GenerateKey(), ApiKeyHash.GenerateKey()))
        {
            ["Limits:RequestTimeout"] = "00:00:00.5",
        };
        await using var host = await SecurityTestHost.StartAsync(config);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/slow");
        request.Headers.Authorization = new("Bearer", TestTokens.Create());
        var started = DateTime.UtcNow;
        using var response = await host.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task OpenApiDocumentDescribesTheSecuritySchemesAndScopes()
    {
        await using var host = await SecurityTestHost.StartAsync(
            SecurityTestHost.SecuredConfig(ApiKeyHash.GenerateKey(), ApiKeyHash.GenerateKey()),
            configureBuilder: b => b.AddApiDocs(),
            configureApp: app => app.MapOpenApi().AllowAnonymous());
        var json = await host.Client.GetStringAsync(new Uri("/openapi/v1.json", UriKind.Relative));
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;

        var schemes = root.GetProperty("components").GetProperty("securitySchemes");
        Assert.Equal("bearer", schemes.GetProperty("Bearer").GetProperty("scheme").GetString());
        Assert.Equal("X-Api-Key", schemes.GetProperty("ApiKey").GetProperty("name").GetString());
        Assert.Equal("header", schemes.GetProperty("ApiKey").GetProperty("in").GetString());

        var list = root.GetProperty("paths").GetProperty("/customers").GetProperty("get");
        var requirement = list.GetProperty("security")[0];
        Assert.Equal("customers:read", requirement.GetProperty("Bearer")[0].GetString());
        Assert.True(list.GetProperty("responses").TryGetProperty("401", out _));
        var delete = root.GetProperty("paths").GetProperty("/customers/{id}").GetProperty("delete");
        Assert.Equal("customers:write", delete.GetProperty("security")[1].GetProperty("ApiKey")[0].GetString());
        var health = root.GetProperty("paths").GetProperty("/health/live").GetProperty("get");
        Assert.False(health.TryGetProperty("security", out _));
    }

    private static async Task<JsonElement> WhoAmI(TestServer server, string remoteIp)
    {
        var context = await server.SendAsync(c =>
        {
            c.Connection.RemoteIpAddress = IPAddress.Parse(remoteIp);
            c.Request.Method = "GET";
            c.Request.Path = "/whoami";
            c.Request.Headers["X-Forwarded-For"] = "203.0.113.9";
            c.Request.Headers["X-Forwarded-Proto"] = "https";
        });
        return (await JsonDocument.ParseAsync(context.Response.Body)).RootElement.Clone();
    }

    private static string Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(", ", values)
        : response.Content.Headers.TryGetValues(name, out var contentValues) ? string.Join(", ", contentValues)
        : "";
}
