using System.Net;
using System.Text.Json.Nodes;
using CustomerRecords.Api.Auth;
using CustomerRecords.Tests.Infrastructure;

namespace CustomerRecords.Tests.Customers;

/// <summary>
/// <c>GET /customers?state=deleted</c> needs <see cref="Scopes.Write"/> as well as the route's read scope, decided
/// by the write policy itself; the live listing still needs only the read scope. (In the open loopback mode the
/// policies grant everything: the list contracts list deleted customers without credentials.)
/// </summary>
public sealed class DeletedListingScopeTests : IAsyncLifetime
{
    private readonly string _readerKey = ApiKeyHash.GenerateKey();
    private readonly string _writerKey = ApiKeyHash.GenerateKey();
    private CustomerApiFactory _factory = null!;
    private HttpClient _client = null!;

    public Task InitializeAsync()
    {
        var settings = CustomerApiFactory.SqliteSettings(TempDirectory.ForRun());
        settings.AddApiKey("reporting", _readerKey, Scopes.Read);
        settings.AddApiKey("crm-sync", _writerKey, Scopes.Read, Scopes.Write);
        _factory = new CustomerApiFactory(settings);
        _client = _factory.CreateClient();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _factory.DisposeAsync();
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string key)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Add("X-Api-Key", key);
        return await _client.SendAsync(request);
    }

    [Fact]
    public async Task AReadOnlyKeyIsForbiddenTheDeletedListingWithAProblem()
    {
        var response = await SendAsync(HttpMethod.Get, "/customers?state=deleted", _readerKey);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.ReadObjectAsync();
        Assert.Equal("urn:customer-records:problem:forbidden", (string?)problem["type"]);
        Assert.Equal(403, (int?)problem["status"]);
        Assert.Contains(Scopes.Write, (string?)problem["detail"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task AReadOnlyKeyIsForbiddenEvenWhenTheOtherParametersAreInvalid() =>
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(HttpMethod.Get, "/customers?state=deleted&sort=bogus", _readerKey)).StatusCode);

    [Theory]
    [InlineData("/customers")]
    [InlineData("/customers?state=live")]
    [InlineData("/customers?updated_since=2026-01-01T00:00:00Z&count=exact")]
    public async Task AReadOnlyKeyStillListsLiveCustomers(string path) =>
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Get, path, _readerKey)).StatusCode);

    [Fact]
    public async Task AKeyWithTheWriteScopeListsTheDeletedCustomers()
    {
        Assert.Equal(HttpStatusCode.NoContent, (await SendAsync(HttpMethod.Delete, "/customers/2", _writerKey)).StatusCode);

        var response = await SendAsync(HttpMethod.Get, "/customers?state=deleted", _writerKey);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var items = (await response.ReadObjectAsync())["items"]!.AsArray();
        Assert.Equal([2], items.Select(i => (int)i!["id"]!));
        Assert.NotNull(items[0]!["deleted_at"]);
    }

    [Fact]
    public async Task TheDocumentSaysTheDeletedListingNeedsTheWriteScope()
    {
        var document = JsonNode.Parse(await _client.GetStringAsync(new Uri("/openapi/v1.json", UriKind.Relative)))!;

        var forbidden = (string?)document["paths"]!["/customers"]!["get"]!["responses"]!["403"]!["description"];

        Assert.Contains("state=deleted", forbidden, StringComparison.Ordinal);
        Assert.Contains(Scopes.Write, forbidden, StringComparison.Ordinal);
    }
}
