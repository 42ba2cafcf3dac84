using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using CustomerRecords.Api.Auth;
using CustomerRecords.Api.Errors;
using CustomerRecords.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace CustomerRecords.Tests.Errors;

/// <summary>
/// Every error status the customer API can answer comes as a problem document whose <c>type</c> is
/// <c>urn:customer-records:problem:&lt;name&gt;</c>, whoever produced it: a handler, the framework's
/// routing, authentication and authorization, the rate limiter or the exception handler.
/// </summary>
public sealed class ProblemTypesTests : IAsyncLifetime
{
    private const string ReadKey = "crk_problem-types-reader-000000000000000000000";
    private const string WriteKey = "crk_problem-types-writer-000000000000000000000";

    private readonly TempDirectory _directory = new();
    private CustomerApiFactory _factory = null!;
    private HttpClient _client = null!;

    public Task InitializeAsync()
    {
        var settings = CustomerApiFactory.SqliteSettings(_directory.Path);
        settings.AddApiKey("reader", ReadKey, Scopes.Read);
        settings.AddApiKey("writer", WriteKey, Scopes.Read, Scopes.Write);
        settings["RateLimit:Enabled"] = "false";
        _factory = new CustomerApiFactory(settings);
        _client = _factory.CreateClient();
        _client.DefaultRequestHeaders.Add("X-Api-Key", WriteKey);
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
    public async Task EveryErrorStatusOfTheCustomerApiHasAProblemTypeOfTheServiceScheme()
    {
        var created = await _client.PostAsync(new Uri("/customers", UriKind.Relative), Json.Body(new { name = "Problem Walk", email = Json.UniqueEmail("walk") }));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (int)(await created.ReadObjectAsync())["id"]!;
        var email = (string)(await created.ReadObjectAsync())["email"]!;

        using var anonymous = _factory.CreateClient();
        using var reader = _factory.CreateClient();
        reader.DefaultRequestHeaders.Add("X-Api-Key", ReadKey);

        var cases = new (string Why, Func<Task<HttpResponseMessage>> Send, HttpStatusCode Status, string Name)[]
        {
            ("invalid body", () => _client.PostAsync(Path("/customers"), Json.Body(new { name = "" })), HttpStatusCode.BadRequest, "validation"),
            ("malformed Idempotency-Key", () => SendAsync(_client, HttpMethod.Post, "/customers", Json.Body(new { name = "A", email = Json.UniqueEmail() }), ("Idempotency-Key", "has space")), HttpStatusCode.BadRequest, "bad-request"),
            ("no credentials", () => anonymous.GetAsync(Path($"/customers/{id}")), HttpStatusCode.Unauthorized, "unauthorized"),
            ("read-only key writes", () => reader.DeleteAsync(Path($"/customers/{id}")), HttpStatusCode.Forbidden, "forbidden"),
            ("missing customer", () => _client.GetAsync(Path("/customers/999999")), HttpStatusCode.NotFound, "not-found"),
            ("non-integer id", () => _client.GetAsync(Path("/customers/abc")), HttpStatusCode.NotFound, "not-found"),
            ("unmatched route", () => _client.GetAsync(Path("/customers/1/nothing-here")), HttpStatusCode.NotFound, "not-found"),
            ("wrong method", () => _client.PutAsync(Path("/customers"), Json.Body(new { name = "A" })), HttpStatusCode.MethodNotAllowed, "method-not-allowed"),
            ("duplicate email", () => _client.PostAsync(Path("/customers"), Json.Body(new { name = "Twin", email })), HttpStatusCode.Conflict, "duplicate-email"),
            ("stale If-Match", () => SendAsync(_client, HttpMethod.Patch, $"/customers/{id}", Json.Body(new { name = "B" }), ("If-Match", "\"999\"")), HttpStatusCode.PreconditionFailed, "precondition-failed"),
            ("body too large", () => _client.PostAsync(Path("/customers"), Json.Body("{\"name\":\"" + new string('x', 70 * 1024) + "\"}")), HttpStatusCode.RequestEntityTooLarge, "body-too-large"),
            ("wrong media type", () => _client.PostAsync(Path("/customers"), new StringContent("name=A", Encoding.UTF8, "text/plain")), HttpStatusCode.UnsupportedMediaType, "unsupported-media-type"),
            ("key reused with another body", () => ReuseKeyAsync(_client), HttpStatusCode.UnprocessableEntity, "idempotency-key-reused"),
        };

        foreach (var (why, send, status, name) in cases)
        {
            using var response = await send();
            await AssertProblemAsync(response, status, name, why);
        }
    }

    [Fact]
    public async Task RateLimitedRequestsGetTheRateLimitedType()
    {
        var settings = CustomerApiFactory.SqliteSettings(_directory.Path);
        settings["RateLimit:PermitLimit"] = "1";
        settings["RateLimit:Window"] = "00:01:00";
        await using var factory = new CustomerApiFactory(settings);
        using var client = factory.CreateClient();

        using var first = await client.GetAsync(Path("/customers"));
        using var second = await client.GetAsync(Path("/customers"));

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        await AssertProblemAsync(second, HttpStatusCode.TooManyRequests, "rate-limited", "second request in the window");
    }

    [Fact]
    public async Task AnUnreachableDatabaseGetsTheUnavailableType()
    {
        await using var factory = new CustomerApiFactory(new Dictionary<string, string?>
        {
            ["Database:Provider"] = "mysql",
            ["ConnectionStrings:Customers"] = $"Server=127.0.0.1;Port={FreePort.Get()};Database=none;User ID=none;Connection Timeout=1",
            ["Database:MigrateOnStartup"] = "false",
            ["Database:MaxRetries"] = "0",
            ["Cache:Mode"] = "None",
        });
        using var client = factory.CreateClient();

        using var response = await client.GetAsync(Path("/customers/1"));

        await AssertProblemAsync(response, HttpStatusCode.ServiceUnavailable, "unavailable", "database down");
        Assert.NotNull(response.Headers.RetryAfter);
    }

    [Fact]
    public async Task ARequestBodyTooSlowToArriveGetsTheRequestTimeoutType()
    {
        // Kestrel reports a body that trickles below Limits:MinRequestBodyDataRate as a 408 BadHttpRequestException.
        var services = new ServiceCollection().AddLogging().AddProblemDocuments().BuildServiceProvider();
        var http = new DefaultHttpContext { RequestServices = services };
        http.Response.Body = new MemoryStream();
        var handler = new ErrorHandler(NullLogger<ErrorHandler>.Instance);

        Assert.True(await handler.TryHandleAsync(http, new BadHttpRequestException("slow", StatusCodes.Status408RequestTimeout), CancellationToken.None));

        Assert.Equal(StatusCodes.Status408RequestTimeout, http.Response.StatusCode);
        http.Response.Body.Position = 0;
        var problem = JsonNode.Parse(http.Response.Body)!.AsObject();
        Assert.Equal(Problems.TypePrefix + "request-timeout", (string?)problem["type"]);
    }

    private static Uri Path(string path) => new(path, UriKind.Relative);

    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, HttpMethod method, string path, HttpContent body, (string Name, string Value) header)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body };
        request.Headers.TryAddWithoutValidation(header.Name, header.Value);
        return await client.SendAsync(request);
    }

    private static async Task<HttpResponseMessage> ReuseKeyAsync(HttpClient client)
    {
        var key = Guid.NewGuid().ToString("N");
        using var first = await SendAsync(client, HttpMethod.Post, "/customers", Json.Body(new { name = "Once", email = Json.UniqueEmail() }), ("Idempotency-Key", key));
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        return await SendAsync(client, HttpMethod.Post, "/customers", Json.Body(new { name = "Other", email = Json.UniqueEmail() }), ("Idempotency-Key", key));
    }

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string name, string why)
    {
        Assert.True(status == response.StatusCode, $"{why}: expected {(int)status}, got {(int)response.StatusCode}");
        Assert.True(response.Content.Headers.ContentType?.MediaType == "application/problem+json", $"{why}: content type {response.Content.Headers.ContentType}");
        var problem = await response.ReadObjectAsync();
        Assert.True(Problems.TypePrefix + name == (string?)problem["type"], $"{why}: type {(string?)problem["type"]}");
        Assert.Equal((int)status, (int)problem["status"]!);
    }
}
