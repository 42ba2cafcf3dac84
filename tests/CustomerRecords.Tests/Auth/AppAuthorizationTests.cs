using System.Net;
using CustomerRecords.Api.Auth;
using CustomerRecords.Tests.Infrastructure;

namespace CustomerRecords.Tests.Auth;

/// <summary>The real app's routes (not a test host's copy) with API keys configured.</summary>
public sealed class AppAuthorizationTests : IAsyncLifetime
{
    private readonly string _readerKey = ApiKeyHash.GenerateKey();
    private readonly string _writerKey = ApiKeyHash.GenerateKey();
    private CustomerApiFactory _factory = null!;
    private HttpClient _client = null!;

    public Task InitializeAsync()
    {
        var settings = CustomerApiFactory.SqliteSettings(TempDirectory.ForRun());
        settings["Auth:ApiKeys:0:Name"] = "reporting";
        settings["Auth:ApiKeys:0:Hash"] = ApiKeyHash.Hash(_readerKey);
        settings["Auth:ApiKeys:0:Scopes:0"] = Scopes.Read;
        settings["Auth:ApiKeys:1:Name"] = "crm-sync";
        settings["Auth:ApiKeys:1:Hash"] = ApiKeyHash.Hash(_writerKey);
        settings["Auth:ApiKeys:1:Scopes:0"] = Scopes.Read;
        settings["Auth:ApiKeys:1:Scopes:1"] = Scopes.Write;
        _factory = new CustomerApiFactory(settings);
        _client = _factory.CreateClient();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _factory.DisposeAsync();
    }

    private static HttpRequestMessage Request(string method, string path, string? key)
    {
        var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method is "POST" or "PUT" or "PATCH")
        {
            request.Content = Json.Body(new { name = "Someone", email = Json.UniqueEmail() });
        }

        if (key is not null)
        {
            request.Headers.Add("X-Api-Key", key);
        }

        return request;
    }

    [Theory]
    [MemberData(nameof(ProtectedRoutes.All), MemberType = typeof(ProtectedRoutes))]
    public async Task EveryCustomerRouteNeedsCredentials(string method, string path, string scope)
    {
        _ = scope;
        using var request = Request(method, path, key: null);
        var response = await _client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.NotEmpty(response.Headers.WwwAuthenticate);
    }

    [Theory]
    [MemberData(nameof(ProtectedRoutes.WriteRoutes), MemberType = typeof(ProtectedRoutes))]
    public async Task ReadOnlyKeyIsForbiddenOnWriteRoutes(string method, string path)
    {
        using var request = Request(method, path, _readerKey);
        Assert.Equal(HttpStatusCode.Forbidden, (await _client.SendAsync(request)).StatusCode);
    }

    [Fact]
    public async Task KeysWithTheRightScopeGetThrough()
    {
        using var read = Request("GET", "/customers/1", _readerKey);
        Assert.Equal(HttpStatusCode.OK, (await _client.SendAsync(read)).StatusCode);
        using var create = Request("POST", "/customers", _writerKey);
        Assert.Equal(HttpStatusCode.Created, (await _client.SendAsync(create)).StatusCode);
    }

    [Theory]
    [InlineData("/health/live")]
    [InlineData("/health/ready")]
    [InlineData("/openapi/v1.json")]
    public async Task HealthAndApiDescriptionStayOpen(string path)
    {
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync(path)).StatusCode);
    }
}
