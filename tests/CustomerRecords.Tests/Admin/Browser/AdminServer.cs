using System.Net;
using CustomerRecords.Api.Auth;
using CustomerRecords.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace CustomerRecords.Tests.Admin.Browser;

/// <summary>
/// The real app on a Kestrel socket on 127.0.0.1 (a browser needs a real port), configured by a settings dictionary
/// as <see cref="CustomerApiFactory"/> is. Keys: <see cref="ReaderKey"/> (read), <see cref="WriterKey"/> (read, write)
/// and <see cref="EraserKey"/> (read, write, erase); with an issuer, OIDC sign-in at it too.
/// </summary>
public sealed class AdminServer : IAsyncDisposable
{
    public const string ReaderKey = "browser-reader-key-0123456789abcdef";
    public const string WriterKey = "browser-writer-key-0123456789abcdef";
    public const string EraserKey = "browser-eraser-key-0123456789abcdef";

    private readonly CustomerApiFactory _factory;
    private readonly HttpClient _api;

    private AdminServer(CustomerApiFactory factory, Uri address)
    {
        _factory = factory;
        Address = address;
        _api = new HttpClient { BaseAddress = address };
        _api.DefaultRequestHeaders.Add("X-Api-Key", EraserKey);
    }

    /// <summary>The origin, e.g. <c>http://127.0.0.1:41234/</c>.</summary>
    public Uri Address { get; }

    /// <summary>The admin page's URL.</summary>
    public string AdminUrl => new Uri(Address, "/admin/").ToString();

    /// <summary>An API client with every scope (as <see cref="EraserKey"/>), to seed and to check what the server holds.</summary>
    public HttpClient Api => _api;

    /// <summary>The three keys; with <paramref name="issuer"/>, OIDC at it with the page's client id as the audience.</summary>
    public static Dictionary<string, string?> KeySettings(Dictionary<string, string?> database, TestIssuer? issuer = null)
    {
        var settings = new Dictionary<string, string?>(database);
        settings.AddApiKey("reader", ReaderKey, Scopes.Read);
        settings.AddApiKey("writer", WriterKey, Scopes.Read, Scopes.Write);
        settings.AddApiKey("eraser", EraserKey, Scopes.Read, Scopes.Write, Scopes.Erase);
        if (issuer is not null)
        {
            settings["Auth:Jwt:Authority"] = issuer.Issuer;
            settings["Auth:Jwt:RequireHttpsMetadata"] = "false";
            settings["Auth:Jwt:Audience"] = issuer.ClientId;
            settings["Auth:Admin:ClientId"] = issuer.ClientId;
        }

        return settings;
    }

    /// <summary>Starts the app on a free loopback port; an <paramref name="issuer"/> is told the page's origin (CORS, redirect URI).</summary>
    public static AdminServer Start(IReadOnlyDictionary<string, string?> settings, TestIssuer? issuer = null)
    {
        var factory = new CustomerApiFactory(settings);
        factory.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        factory.StartServer();
        var addresses = factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        var address = new Uri(addresses.Single(a => a.StartsWith("http://127.0.0.1:", StringComparison.Ordinal)).TrimEnd('/') + "/");
        issuer?.AllowPage(address);
        return new AdminServer(factory, address);
    }

    public async ValueTask DisposeAsync()
    {
        _api.Dispose();
        await _factory.DisposeAsync();
    }
}
