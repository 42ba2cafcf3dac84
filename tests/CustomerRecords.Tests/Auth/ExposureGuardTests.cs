using System.Net;
using CustomerRecords.Api.Auth;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CustomerRecords.Tests.Auth;

/// <summary>Secure by default: open only on loopback unless authentication or Auth:AllowAnonymous is configured.</summary>
public sealed class ExposureGuardTests
{
    [Fact]
    public async Task OpenServiceOnLoopbackStartsServesAndWarnsOnce()
    {
        await using var host = await SecurityTestHost.StartAsync(
            new Dictionary<string, string?> { ["urls"] = "http://127.0.0.1:0" }, kestrel: true);

        using var response = await host.Client.GetAsync(new Uri("/customers", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(response.Headers.Contains("Server"));
        var warning = Assert.Single(host.Logs.Entries, e => e.EventId.Id == 7000);
        Assert.Equal(LogLevel.Warning, warning.Level);
    }

    [Theory]
    [InlineData("urls", "http://0.0.0.0:0")]
    [InlineData("urls", "http://+:0")]
    [InlineData("urls", "http://*:0")]
    [InlineData("urls", "http://[::]:0")]
    [InlineData("urls", "http://127.0.0.1:0;http://192.0.2.10:0")]
    [InlineData("urls", "http://api.example.com:0")]
    [InlineData("http_ports", "0")] // ASPNETCORE_HTTP_PORTS binds every interface
    [InlineData("Kestrel:Endpoints:Public:Url", "http://0.0.0.0:0")]
    public async Task OpenServiceOnAPublicAddressRefusesToStartBeforeBinding(string key, string value)
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            SecurityTestHost.StartAsync(new Dictionary<string, string?> { [key] = value }, kestrel: true));

        Assert.Contains("Auth:AllowAnonymous", error.Message, StringComparison.Ordinal);
        Assert.Contains("Auth:Jwt:Authority", error.Message, StringComparison.Ordinal);
        Assert.Contains("Auth:ApiKeys", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenServiceRefusesWhenTheServerEndsUpOnAPublicAddress()
    {
        // Addresses that configuration did not show (e.g. ListenAnyIP in code) are caught right after start.
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            SecurityTestHost.StartAsync(new Dictionary<string, string?>(), kestrel: true,
                configureBuilder: b => b.Services.AddSingleton<IServer>(new FakeServer("http://[::]:8080"))));

        Assert.Contains("http://[::]:8080", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AllowAnonymousPermitsAPublicAddressWithAWarning()
    {
        await using var host = await SecurityTestHost.StartAsync(
            new Dictionary<string, string?> { ["Auth:AllowAnonymous"] = "true", ["urls"] = "http://0.0.0.0:8080" }, kestrel: true,
            configureBuilder: b => b.Services.AddSingleton<IServer>(new FakeServer("http://0.0.0.0:8080")));

        Assert.Single(host.Logs.Entries, e => e.EventId.Id == 7001);
    }

    [Fact]
    public async Task ConfiguredAuthenticationPermitsAPublicAddress()
    {
        var config = new Dictionary<string, string?>(SecurityTestHost.SecuredConfig(ApiKeyHash.GenerateKey(), ApiKeyHash.GenerateKey()))
        {
            ["urls"] = "http://0.0.0.0:8080",
        };
        await using var host = await SecurityTestHost.StartAsync(config, kestrel: true,
            configureBuilder: b => b.Services.AddSingleton<IServer>(new FakeServer("http://0.0.0.0:8080")));

        Assert.DoesNotContain(host.Logs.Entries, e => e.EventId.Id is 7000 or 7001);
    }

    [Fact]
    public async Task InProcessTestServerCountsAsLoopbackWhateverTheUrls()
    {
        await using var host = await SecurityTestHost.StartAsync(new Dictionary<string, string?> { ["urls"] = "http://+:80" });

        using var read = await host.Client.GetAsync(new Uri("/customers", UriKind.Relative));
        using var write = await host.Client.DeleteAsync(new Uri("/customers/1", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, write.StatusCode);
    }

    [Theory]
    [InlineData("http://localhost:5000", true)]
    [InlineData("https://LOCALHOST:5001", true)]
    [InlineData("http://127.0.0.1:5000", true)]
    [InlineData("http://127.1.2.3:5000", true)]
    [InlineData("http://[::1]:5000", true)]
    [InlineData("http://unix:/run/customer-records.sock", true)]
    [InlineData("http://0.0.0.0:5000", false)]
    [InlineData("http://[::]:5000", false)]
    [InlineData("http://*:5000", false)]
    [InlineData("http://+:5000", false)]
    [InlineData("http://10.0.0.5:5000", false)]
    [InlineData("http://localhost.example.com:5000", false)]
    [InlineData("http://[::ffff:10.0.0.5]:5000", false)]
    public void ClassifiesListenAddresses(string address, bool localOnly) => Assert.Equal(localOnly, ListenAddresses.IsLocalOnly(address));

    /// <summary>Stands in for Kestrel and reports the given addresses once started, without opening any socket.</summary>
    private sealed class FakeServer(string address) : IServer
    {
        private readonly ServerAddressesFeature _addresses = new();

        public IFeatureCollection Features { get; } = new FeatureCollection();

        public Task StartAsync<TContext>(IHttpApplication<TContext> application, CancellationToken cancellationToken) where TContext : notnull
        {
            Features.Set<IServerAddressesFeature>(_addresses);
            _addresses.Addresses.Add(address);
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public void Dispose()
        {
        }

        private sealed class ServerAddressesFeature : IServerAddressesFeature
        {
            public ICollection<string> Addresses { get; } = [];

            public bool PreferHostingUrls { get; set; }
        }
    }
}
