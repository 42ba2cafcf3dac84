using System.Text;
using CustomerRecords.Tests.Infrastructure;

namespace CustomerRecords.Tests.Docs;

/// <summary>
/// The conformance check that watches the HTTP contract suite finds what it is there to find: each kind of
/// departure from the served document, shown on a made-up exchange, and nothing on a conforming one.
/// </summary>
public sealed class OpenApiConformanceTests : IAsyncLifetime
{
    private const string Customer = """{"id":4,"name":"Alice","email":"alice@example.com","phone":null,"created_at":"2026-01-02T03:04:05.123456Z","updated_at":"2026-01-02T03:04:05.123456Z","version":1}""";

    private readonly TempDirectory _directory = new();
    private CustomerApiFactory _factory = null!;
    private OpenApiContract _contract = null!;

    public async Task InitializeAsync()
    {
        _factory = new CustomerApiFactory(CustomerApiFactory.SqliteSettings(_directory.Path));
        using var client = _factory.CreateClient();
        _contract = OpenApiContract.Parse(await client.GetStringAsync(new Uri("/openapi/v1.json", UriKind.Relative)));
    }

    public async Task DisposeAsync()
    {
        await _factory.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _directory.Dispose();
    }

    private static HttpExchange Exchange(
        string method, string path, int status, string? responseBody = Customer, string? requestBody = null, string query = "",
        Dictionary<string, string>? responseHeaders = null, string? responseMediaType = "application/json", string requestMediaType = "application/json",
        Dictionary<string, string>? requestHeaders = null) =>
        new(method, path, query, requestHeaders ?? [], requestBody is null ? null : requestMediaType, requestBody is null ? null : Encoding.UTF8.GetBytes(requestBody),
            status, responseHeaders ?? new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["ETag"] = "\"1\"" },
            responseBody is null ? null : responseMediaType, responseBody is null ? [] : Encoding.UTF8.GetBytes(responseBody));

    [Fact]
    public void AConformingExchangeHasNoViolation()
    {
        Assert.Empty(_contract.Check(Exchange("GET", "/customers/4", 200)));
        var created = Exchange("POST", "/customers", 201, requestBody: """{"name":"Alice","email":"alice@example.com"}""",
            responseHeaders: new(StringComparer.OrdinalIgnoreCase) { ["ETag"] = "\"1\"", ["Location"] = "/customers/4" });
        Assert.Empty(_contract.Check(created));
    }

    [Fact]
    public void EachKindOfDepartureIsFound()
    {
        (string Why, HttpExchange Exchange, string Expected)[] cases =
        [
            ("an undocumented status", Exchange("GET", "/customers/4", 418), "status 418 is not documented"),
            ("a required header missing", Exchange("GET", "/customers/4", 200, responseHeaders: []), "required header ETag is missing"),
            ("a header outside its schema", Exchange("GET", "/customers/4", 200, responseHeaders: new(StringComparer.OrdinalIgnoreCase) { ["ETag"] = "W/\"x\"" }), "header ETag"),
            ("an undocumented header", Exchange("DELETE", "/customers/4", 204, responseBody: null, responseHeaders: new(StringComparer.OrdinalIgnoreCase) { ["ETag"] = "\"2\"" }), "header ETag is sent but not documented"),
            ("an id as a string", Exchange("GET", "/customers/4", 200, Customer.Replace("\"id\":4", "\"id\":\"4\"", StringComparison.Ordinal)), "body"),
            ("a missing field", Exchange("GET", "/customers/4", 200, Customer.Replace("\"version\":1", "\"v\":1", StringComparison.Ordinal)), "body"),
            ("the wrong media type", Exchange("GET", "/customers/4", 404, """{"type":"urn:customer-records:problem:not-found","title":"x","status":404}"""), "media type application/json is not documented"),
            ("a problem of an unlisted type", Exchange("GET", "/customers/4", 404, """{"type":"urn:customer-records:problem:gone","title":"x","status":404}""", responseMediaType: "application/problem+json"), "body"),
            ("no body where one is documented", Exchange("GET", "/customers/4", 200, responseBody: null), "no body"),
            ("an unknown field accepted", Exchange("POST", "/customers", 201, requestBody: """{"name":"A","email":"a@example.com","nickname":"x"}""",
                responseHeaders: new(StringComparer.OrdinalIgnoreCase) { ["ETag"] = "\"1\"", ["Location"] = "/customers/4" }), "accepted (201) a request the document rejects"),
            ("a limit out of bounds accepted", Exchange("GET", "/customers", 200, """{"items":[],"next":null}""", query: "?limit=501", responseHeaders: []), "query parameter limit"),
            ("an undocumented route answered", Exchange("GET", "/customers/4/notes", 200), "no operation GET /customers/4/notes"),
        ];

        foreach (var (why, exchange, expected) in cases)
        {
            var violations = _contract.Check(exchange);
            Assert.True(violations.Any(v => v.Contains(expected, StringComparison.Ordinal)), $"{why}: expected a violation containing '{expected}', got: {string.Join(" | ", violations)}");
        }
    }

    [Fact]
    public void OriginalRoutesMayIgnoreUnknownFieldsButResourceRoutesMayNot()
    {
        var original = Exchange("POST", "/create", 201, """{"message":"Customer created","id":5}""", requestBody: """{"name":"A","email":"a@example.com","source":"legacy"}""", responseHeaders: []);
        Assert.Empty(_contract.Check(original));
    }
}
