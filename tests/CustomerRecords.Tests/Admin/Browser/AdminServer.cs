using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
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

    private AdminServer(CustomerApiFactory factory, Uri address, TestIssuer? issuer)
    {
        _factory = factory;
        Issuer = issuer;
        Address = address;
        _api = new HttpClient { BaseAddress = address };
        _api.DefaultRequestHeaders.Add("X-Api-Key", EraserKey);
    }

    /// <summary>The OIDC issuer the page signs in at, when started with one (disposed with the server).</summary>
    public TestIssuer? Issuer { get; }

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
        return new AdminServer(factory, address, issuer);
    }

    /// <summary>A test issuer, then the app with the three keys and OIDC sign-in at that issuer, over <paramref name="database"/>.</summary>
    public static async Task<AdminServer> StartWithIssuerAsync(Dictionary<string, string?> database)
    {
        var issuer = await TestIssuer.StartAsync();
        try
        {
            return Start(KeySettings(database, issuer), issuer);
        }
        catch
        {
            await issuer.DisposeAsync();
            throw;
        }
    }

    /// <summary>Creates a customer through the API; its id.</summary>
    public async Task<int> CreateAsync(string name, string email, string? phone = null)
    {
        using var response = await _api.PostAsJsonAsync(new Uri("/customers", UriKind.Relative), new { name, email, phone });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<int>();
    }

    /// <summary>The customer as the server holds it now, or null when it answers 404.</summary>
    public async Task<JsonObject?> GetAsync(int id)
    {
        using var response = await _api.GetAsync(new Uri($"/customers/{id}", UriKind.Relative));
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<JsonObject>();
    }

    public async ValueTask DisposeAsync()
    {
        _api.Dispose();
        await _factory.DisposeAsync();
        if (Issuer is not null)
        {
            await Issuer.DisposeAsync();
        }
    }
}
