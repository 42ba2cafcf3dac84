using System.Net;
using CustomerRecords.Api.Auth;
using CustomerRecords.Tests.Auth;

namespace CustomerRecords.Tests.Hosting;

public sealed class RateLimitTests
{
    private static Dictionary<string, string?> Config(string readerKey, string writerKey, int permits = 3) =>
        new(SecurityTestHost.SecuredConfig(readerKey, writerKey))
        {
            ["RateLimit:PermitLimit"] = permits.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["RateLimit:Window"] = "00:00:01",
        };

    [Fact]
    public async Task ClientOverTheLimitGets429WithRetryAfterThenRecovers()
    {
        var reader = ApiKeyHash.GenerateKey();
        await using var host = await SecurityTestHost.StartAsync(Config(reader, ApiKeyHash.GenerateKey()));

        for (var i = 0; i < 3; i++)
        {
            using var ok = await Get(host, "/customers", reader);
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        using var limited = await Get(host, "/customers", reader);
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.Equal("application/problem+json", limited.Content.Headers.ContentType?.MediaType);
        var retryAfter = limited.Headers.RetryAfter?.Delta;
        Assert.NotNull(retryAfter);
        Assert.InRange(retryAfter.Value, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2));

        await Task.Delay(retryAfter.Value + TimeSpan.FromMilliseconds(200));
        using var recovered = await Get(host, "/customers", reader);
        Assert.Equal(HttpStatusCode.OK, recovered.StatusCode);
    }

    [Fact]
    public async Task ClientsAreLimitedSeparately()
    {
        var reader = ApiKeyHash.GenerateKey();
        var writer = ApiKeyHash.GenerateKey();
        await using var host = await SecurityTestHost.StartAsync(Config(reader, writer, permits: 2));

        for (var i = 0; i < 3; i++)
        {
            (await Get(host, "/customers", reader)).Dispose();
        }

        using var readerLimited = await Get(host, "/customers", reader);
        using var writerFine = await Get(host, "/customers", writer);

        Assert.Equal(HttpStatusCode.TooManyRequests, readerLimited.StatusCode);
        Assert.Equal(HttpStatusCode.OK, writerFine.StatusCode);
    }

    [Fact]
    public async Task FailedAuthenticationAttemptsAreLimitedToo()
    {
        await using var host = await SecurityTestHost.StartAsync(Config(ApiKeyHash.GenerateKey(), ApiKeyHash.GenerateKey(), permits: 2));

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++)
        {
            using var response = await Get(host, "/customers", ApiKeyHash.GenerateKey());
            statuses.Add(response.StatusCode);
        }

        Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], statuses);
    }

    [Fact]
    public async Task HealthEndpointsAreNotRateLimited()
    {
        await using var host = await SecurityTestHost.StartAsync(Config(ApiKeyHash.GenerateKey(), ApiKeyHash.GenerateKey(), permits: 1));

        for (var i = 0; i < 5; i++)
        {
            using var response = await host.Client.GetAsync(new Uri("/health/live", UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }

    [Fact]
    public async Task RateLimitingCanBeTurnedOff()
    {
        var reader = ApiKeyHash.GenerateKey();
        var config = Config(reader, ApiKeyHash.GenerateKey(), permits: 1);
        config["RateLimit:Enabled"] = "false";
        await using var host = await SecurityTestHost.StartAsync(config);

        for (var i = 0; i < 5; i++)
        {
            using var response = await Get(host, "/customers", reader);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }

    private static Task<HttpResponseMessage> Get(SecurityTestHost host, string path, string apiKey)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("X-Api-Key", apiKey);
        return host.Client.SendAsync(request);
    }
}
