using System.Net;
using CustomerRecords.Api.Auth;
using CustomerRecords.Tests.Infrastructure;

namespace CustomerRecords.Tests.Docs;

/// <summary>
/// The answers the HTTP contract suite never provokes (it runs open, unlimited) conform to the document
/// too: 401 and 403 with authentication configured, 429 from the rate limiter, and routing's 404/405 for
/// requests that are no documented operation. Each exchange goes through <see cref="OpenApiConformanceHandler"/>.
/// </summary>
public sealed class OpenApiConformanceWalkTests
{
    private static Dictionary<string, string?> Settings(string suite)
    {
        var settings = CustomerApiFactory.SqliteSettings(TempDirectory.ForRun());
        settings[OpenApiTrafficLog.SettingKey] = suite;
        return settings;
    }

    private static void AssertConforms(string suite, int atLeast)
    {
        var log = OpenApiTrafficLog.For(suite);
        var violations = log.TakeViolations();
        Assert.True(violations.Count == 0, $"{violations.Count} exchanges depart from /openapi/v1.json:\n" + string.Join("\n", violations));
        Assert.True(log.Checked >= atLeast, $"only {log.Checked} exchanges were checked");
    }

    [Fact]
    public async Task AuthenticationAndRoutingAnswersConform()
    {
        const string suite = nameof(AuthenticationAndRoutingAnswersConform);
        var readerKey = ApiKeyHash.GenerateKey();
        var writerKey = ApiKeyHash.GenerateKey();
        var settings = Settings(suite);
        settings.AddApiKey("reporting", readerKey, Scopes.Read);
        settings.AddApiKey("crm-sync", writerKey, Scopes.Read, Scopes.Write);
        settings["RateLimit:Enabled"] = "false";
        await using var factory = new CustomerApiFactory(settings);
        using var anonymous = factory.CreateClient();
        using var reader = factory.CreateClient();
        reader.DefaultRequestHeaders.Add("X-Api-Key", readerKey);
        using var writer = factory.CreateClient();
        writer.DefaultRequestHeaders.Add("X-Api-Key", writerKey);

        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync(new Uri("/customers", UriKind.Relative))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync(new Uri("/read/1", UriKind.Relative))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync(new Uri("/health/live", UriKind.Relative))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await reader.DeleteAsync(new Uri("/customers/1", UriKind.Relative))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await reader.PostAsync(new Uri("/create", UriKind.Relative), Json.Body(new { name = "A", email = Json.UniqueEmail() }))).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await writer.PostAsync(new Uri("/customers", UriKind.Relative), Json.Body(new { name = "Walk", email = Json.UniqueEmail() }))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync(new Uri("/customers?limit=1", UriKind.Relative))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await writer.GetAsync(new Uri("/customers/abc", UriKind.Relative))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await writer.GetAsync(new Uri("/no/such/route", UriKind.Relative))).StatusCode);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, (await writer.PutAsync(new Uri("/customers", UriKind.Relative), Json.Body(new { name = "A" }))).StatusCode);

        AssertConforms(suite, atLeast: 10);
    }

    [Fact]
    public async Task RateLimitAnswersConform()
    {
        const string suite = nameof(RateLimitAnswersConform);
        var settings = Settings(suite);
        // Two permits: the first request, then the handler's own fetch of the document; the third is refused.
        settings["RateLimit:PermitLimit"] = "2";
        settings["RateLimit:Window"] = "00:10:00";
        await using var factory = new CustomerApiFactory(settings);
        using var client = factory.CreateClient();

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri("/customers", UriKind.Relative))).StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await client.GetAsync(new Uri("/customers/1", UriKind.Relative))).StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await client.PostAsync(new Uri("/create", UriKind.Relative), Json.Body(new { name = "A", email = Json.UniqueEmail() }))).StatusCode);

        AssertConforms(suite, atLeast: 3);
    }
}
