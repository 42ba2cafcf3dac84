using System.Net;
using CustomerRecords.Api.Operations;
using CustomerRecords.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;

namespace CustomerRecords.Tests.Operations;

public class MetricsEndpointTests
{
    [Fact]
    public async Task MetricsExposeAspNetCoreRequestDurationAfterARequest()
    {
        await using var factory = CustomerRecords.Tests.Infrastructure.CustomerApiFactory.ForSqlite();
        using var client = factory.CreateClient();

        (await client.GetAsync(new Uri("/customers/1", UriKind.Relative))).EnsureSuccessStatusCode();

        // The request's duration is recorded as the request ends, which can trail the client's response, and the
        // exporter caches a scrape for 300 ms: poll briefly instead of asserting on the first scrape.
        string body = "";
        for (var attempt = 0; attempt < 20 && !body.Contains("http_server_request_duration_seconds_count", StringComparison.Ordinal); attempt++)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(attempt == 0 ? 0 : 350));
            using var response = await client.GetAsync(new Uri("/metrics", UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
            body = await response.Content.ReadAsStringAsync();
        }

        Assert.True(body.Contains("http_server_request_duration_seconds_count", StringComparison.Ordinal), body);
        Assert.True(body.Contains("http_route=\"/customers/{id:int}\"", StringComparison.Ordinal), string.Join("\n", body.Split("\n").Where(l => l.StartsWith("http_server_request_duration_seconds_count", StringComparison.Ordinal))));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RoutingAndAuthorizationMetersAreRecordedOnlyWithDetailedMetrics(bool detailed)
    {
        // With an API key configured, so that authorization runs at all: open mode runs none (OpenModePipelineTests).
        const string key = "detailed-metrics-test-key-0123456789abcdef";
        var settings = CustomerApiFactory.SqliteSettings(TempDirectory.ForRun());
        settings.AddApiKey("metrics-test", key, CustomerRecords.Api.Auth.Scopes.Read);
        await using var factory = new CustomerApiFactory(settings)
            .WithWebHostBuilder(b => b.UseSetting("Observability:DetailedMetrics", detailed ? "true" : "false"));
        using var client = factory.CreateClient();
        client.DefaultRequestHeaders.Add(CustomerRecords.Api.Auth.ApiKeyAuthenticationHandler.HeaderName, key);

        (await client.GetAsync(new Uri("/customers/1", UriKind.Relative))).EnsureSuccessStatusCode();

        string body = "";
        for (var attempt = 0; attempt < 20 && !body.Contains("http_server_request_duration_seconds_count", StringComparison.Ordinal); attempt++)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(attempt == 0 ? 0 : 350));
            body = await client.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        }

        // The request is in the scrape (its duration), so the detailed meters would be too if they were on.
        Assert.Contains("http_server_request_duration_seconds_count", body, StringComparison.Ordinal);
        Assert.Equal(detailed, body.Contains("aspnetcore_routing_match_attempts", StringComparison.Ordinal));
        Assert.Equal(detailed, body.Contains("aspnetcore_authorization_attempts", StringComparison.Ordinal));
        Assert.Contains("http_server_active_requests", body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("127.0.0.1", HttpStatusCode.OK)]
    [InlineData("::1", HttpStatusCode.OK)]
    [InlineData("::ffff:127.0.0.1", HttpStatusCode.OK)]
    [InlineData("10.0.3.7", HttpStatusCode.NotFound)]
    [InlineData("203.0.113.9", HttpStatusCode.NotFound)]
    public async Task MetricsByDefaultAnswerOnlyLoopback(string remoteAddress, HttpStatusCode expected)
    {
        await using var factory = CustomerRecords.Tests.Infrastructure.CustomerApiFactory.ForSqlite();

        var context = await Scrape(factory, remoteAddress);

        Assert.Equal((int)expected, context.Response.StatusCode);
    }

    [Theory]
    [InlineData("10.0.3.7", HttpStatusCode.OK)]
    [InlineData("10.1.0.1", HttpStatusCode.NotFound)]
    [InlineData("127.0.0.1", HttpStatusCode.OK)]
    public async Task MetricsAnswerConfiguredNetworksAndLoopback(string remoteAddress, HttpStatusCode expected)
    {
        await using var factory = CustomerRecords.Tests.Infrastructure.CustomerApiFactory.ForSqlite()
            .WithWebHostBuilder(b => b.UseSetting("Observability:MetricsAllowedNetworks:0", "10.0.0.0/16"));

        var context = await Scrape(factory, remoteAddress);

        Assert.Equal((int)expected, context.Response.StatusCode);
    }

    /// <summary>Every header a proxy, load balancer or CDN adds to say whom it relays for; the policy must know each.</summary>
    private static readonly string[] Relayed =
    [
        "Forwarded",
        "X-Forwarded-For",
        "X-Forwarded-Host",
        "X-Forwarded-Proto",
        "X-Forwarded-Port",
        "X-Forwarded-Server",
        "X-Original-For",
        "X-Original-Host",
        "X-Original-Proto",
        "X-Real-IP",
        "True-Client-IP",
        "CF-Connecting-IP",
        "X-Client-IP",
        "X-Cluster-Client-IP",
        "Fastly-Client-IP",
        "X-Amzn-Trace-Id",
        "Via",
        "x-real-ip", // header names are case-insensitive
    ];

    public static TheoryData<string> ForwardingHeaders()
    {
        var data = new TheoryData<string>();
        foreach (var header in Relayed)
        {
            data.Add(header);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(ForwardingHeaders))]
    public async Task MetricsRefuseRequestsRelayedByAProxyEvenFromLoopback(string header)
    {
        // Behind the ALB or nginx the TCP peer is the proxy, so its address says nothing about the caller.
        await using var factory = CustomerRecords.Tests.Infrastructure.CustomerApiFactory.ForSqlite();

        var loopback = await Scrape(factory, "127.0.0.1");
        var relayed = await Scrape(factory, "127.0.0.1", header);

        Assert.Equal(StatusCodes.Status200OK, loopback.Response.StatusCode);
        Assert.Equal(StatusCodes.Status404NotFound, relayed.Response.StatusCode);
    }

    [Fact]
    public void ThePolicyRefusesEveryForwardingHeaderTheTestsName()
    {
        // The list in the policy and the list above must not drift apart in either direction.
        Assert.Equal(
            MetricsAccessPolicy.ProxyHeaders.Order(StringComparer.OrdinalIgnoreCase),
            Relayed.Distinct(StringComparer.OrdinalIgnoreCase).Order(StringComparer.OrdinalIgnoreCase),
            StringComparer.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task MetricsCanBeSwitchedOff()
    {
        await using var factory = CustomerRecords.Tests.Infrastructure.CustomerApiFactory.ForSqlite()
            .WithWebHostBuilder(b => b.UseSetting("Observability:PrometheusEnabled", "false"));
        using var client = factory.CreateClient();

        using var response = await client.GetAsync(new Uri("/metrics", UriKind.Relative));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Theory]
    [InlineData("Grpc")]
    [InlineData("HttpProtobuf")]
    public async Task ServesWithOtlpExportConfigured(string protocol)
    {
        // A closed loopback port: export fails in the background, serving must not.
        await using var factory = CustomerRecords.Tests.Infrastructure.CustomerApiFactory.ForSqlite()
            .WithWebHostBuilder(b => b
                .UseSetting("Observability:OtlpEndpoint", "http://127.0.0.1:9")
                .UseSetting("Observability:OtlpProtocol", protocol));
        using var client = factory.CreateClient();

        using var response = await client.GetAsync(new Uri("/health/live", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task StartupFailsWithAMessageNamingTheSettingForAMalformedNetwork()
    {
        await using var factory = CustomerRecords.Tests.Infrastructure.CustomerApiFactory.ForSqlite()
            .WithWebHostBuilder(b => b.UseSetting("Observability:MetricsAllowedNetworks:0", "10.0.0.0/33"));

        var error = Assert.ThrowsAny<Exception>(() => factory.CreateClient());

        Assert.Contains("Observability:MetricsAllowedNetworks", error.ToString(), StringComparison.Ordinal);
    }

    private static Task<HttpContext> Scrape(WebApplicationFactory<Program> factory, string remoteAddress, string? proxyHeader = null)
    {
        _ = factory.Server; // starts the host
        return factory.Server.SendAsync(context =>
        {
            context.Request.Method = HttpMethods.Get;
            context.Request.Path = "/metrics";
            context.Connection.RemoteIpAddress = IPAddress.Parse(remoteAddress);
            if (proxyHeader is not null)
            {
                context.Request.Headers[proxyHeader] = "198.51.100.4";
            }
        });
    }
}
