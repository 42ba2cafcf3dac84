using System.Net;
using CustomerRecords.Api.Auth;
using CustomerRecords.Tests.Infrastructure;

namespace CustomerRecords.Tests.Auth;

/// <summary>The real app's routes (not a test host's copy) with API keys configured.</summary>
public sealed class AppAuthorizationTests : IAsyncLifetime
{
    private readonly string _readerKey = ApiKeyHash.GenerateKey();
    private readonly string _writerKey = ApiKeyHash.GenerateKey();
    private readonly string _eraserKey = ApiKeyHash.GenerateKey();
    private string _database = null!;
    private CustomerApiFactory _factory = null!;
    private HttpClient _client = null!;

    public Task InitializeAsync()
    {
        var settings = CustomerApiFactory.SqliteSettings(TempDirectory.ForRun());
        _database = settings["ConnectionStrings:Customers"]!;
        settings.AddApiKey("reporting", _readerKey, Scopes.Read);
        settings.AddApiKey("crm-sync", _writerKey, Scopes.Read, Scopes.Write);
        settings.AddApiKey("privacy-desk", _eraserKey, Scopes.Erase);
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

    [Fact]
    public async Task ErasureNeedsItsOwnScopeAndEveryEventNamesTheKeyThatMadeIt()
    {
        using var create = Request("POST", "/customers", _writerKey);
        using var created = await _client.SendAsync(create);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (int)(await created.ReadObjectAsync())["id"]!;
        var erasePath = $"/customers/{id}/erase";

        using (var byWriter = Request("POST", erasePath, _writerKey))
        {
            Assert.Equal(HttpStatusCode.Forbidden, (await _client.SendAsync(byWriter)).StatusCode); // write is not erase
        }

        using (var byEraser = Request("POST", erasePath, _eraserKey))
        {
            byEraser.Content = null;
            Assert.Equal(HttpStatusCode.NoContent, (await _client.SendAsync(byEraser)).StatusCode);
        }

        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection(_database);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT kind || '=' || actor FROM customer_events WHERE customer_id = {id} ORDER BY seq";
        var events = new List<string>();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                events.Add(reader.GetString(0));
            }
        }

        Assert.Equal(["created=key:crm-sync", "erased=key:privacy-desk"], events);
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
