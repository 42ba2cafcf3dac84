using System.Net;
using System.Text.Json.Nodes;
using CustomerRecords.Tests.Infrastructure;

namespace CustomerRecords.Tests.Docs;

/// <summary>What the service shows beyond the customer routes: its OpenAPI document, docs page and unknown routes.</summary>
public sealed class ServiceSurfaceTests : IAsyncLifetime
{
    private readonly TempDirectory _directory = new();
    private CustomerApiFactory _factory = null!;
    private HttpClient _client = null!;

    public Task InitializeAsync()
    {
        _factory = new CustomerApiFactory(CustomerApiFactory.SqliteSettings(_directory.Path));
        _client = _factory.CreateClient();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _factory.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _directory.Dispose();
    }

    [Fact]
    public async Task OpenApiDocumentDescribesEveryRouteAndItsErrors()
    {
        var response = await _client.GetAsync("/openapi/v1.json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var document = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        var paths = document["paths"]!.AsObject();

        (string Path, string Method, string[] Statuses)[] expected =
        [
            ("/customers", "get", ["200", "400"]),
            ("/customers", "post", ["201", "400", "409", "413", "415"]),
            ("/customers/{id}", "get", ["200", "404"]),
            ("/customers/{id}", "put", ["200", "400", "404", "409", "412"]),
            ("/customers/{id}", "patch", ["200", "400", "404", "409", "412"]),
            ("/customers/{id}", "delete", ["204", "404", "412"]),
            ("/customers/{id}/history", "get", ["200", "400", "404", "503"]),
            ("/customers/{id}/export", "get", ["200", "404", "503"]),
            ("/changes", "get", ["200", "400", "503"]),
            ("/create", "post", ["201", "400", "409"]),
            ("/read/{id}", "get", ["200", "404"]),
            ("/update/{id}", "put", ["200", "400", "404", "409"]),
            ("/delete/{id}", "delete", ["200", "404"]),
            ("/health/live", "get", ["200"]),
            ("/health/ready", "get", ["200"]),
        ];
        foreach (var (path, method, statuses) in expected)
        {
            var operation = paths[path]?[method];
            Assert.True(operation is not null, $"{method.ToUpperInvariant()} {path} is missing from the OpenAPI document");
            var responses = operation!["responses"]!.AsObject();
            foreach (var status in statuses)
            {
                Assert.True(responses.ContainsKey(status), $"{method.ToUpperInvariant()} {path} does not document {status}");
            }
        }

        var schemas = document["components"]!["schemas"]!.AsObject();
        Assert.True(schemas.ContainsKey("Customer"));
        Assert.NotNull(schemas["Customer"]!["properties"]!["created_at"]);
    }

    [Fact]
    public async Task DocsPageIsServed()
    {
        var response = await _client.GetAsync("/docs/");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task UnknownRouteReturnsProblemDetails()
    {
        var response = await _client.GetAsync("/no/such/route");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task NonNumericIdIsNotFound()
    {
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync("/customers/abc")).StatusCode);
    }
}
