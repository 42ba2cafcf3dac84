using CustomerRecords.Api.Auth;
using CustomerRecords.Tests.Auth;
using CustomerRecords.Tests.Infrastructure;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;

namespace CustomerRecords.Tests.Admin;

/// <summary>The real app over a fresh SQLite file, in open, API-key or OIDC mode, for the admin page's server side.</summary>
internal static class AdminHost
{
    public const string AuthorizationEndpoint = "https://login.issuer.test/oauth2/authorize";
    public const string TokenEndpoint = "https://login.issuer.test/oauth2/token";
    public const string PageClientId = "admin-page-client";

    public static CustomerApiFactory Open() => new(CustomerApiFactory.SqliteSettings(TempDirectory.ForRun()));

    /// <summary>API keys only: <paramref name="readerKey"/> (read) as "reporting", <paramref name="writerKey"/> (read, write, erase) as "support".</summary>
    public static CustomerApiFactory Keys(string readerKey, string writerKey) => new(KeySettings(readerKey, writerKey));

    /// <summary>
    /// JWT from the test issuer (whose discovery document is <paramref name="discovery"/>, or one with both endpoints), one
    /// read key (<paramref name="readerKey"/>; null for bearer tokens only), and <paramref name="extra"/> settings such as
    /// <c>Auth:Admin:ClientId</c>.
    /// </summary>
    public static CustomerApiFactory Oidc(string? readerKey, IDictionary<string, string?> extra, OpenIdConnectConfiguration? discovery = null)
    {
        var settings = CustomerApiFactory.SqliteSettings(TempDirectory.ForRun());
        if (readerKey is not null)
        {
            settings.AddApiKey("reporting", readerKey, Scopes.Read);
        }

        settings["Auth:Jwt:Authority"] = TestTokens.Issuer;
        settings["Auth:Jwt:Audience"] = TestTokens.Audience;
        foreach (var (key, value) in extra)
        {
            settings[key] = value;
        }

        discovery ??= Discovery();
        return new CustomerApiFactory(settings, host => host.ConfigureTestServices(services =>
            services.PostConfigure<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme, o =>
                o.ConfigurationManager = new StaticConfigurationManager<OpenIdConnectConfiguration>(discovery))));
    }

    /// <summary>The test issuer's discovery document: its signing key, and the endpoints unless left out.</summary>
    public static OpenIdConnectConfiguration Discovery(string? authorize = AuthorizationEndpoint, string? token = TokenEndpoint) => new()
    {
        Issuer = TestTokens.Issuer,
        SigningKeys = { TestTokens.SigningKey },
        AuthorizationEndpoint = authorize,
        TokenEndpoint = token,
    };

    public static Dictionary<string, string?> KeySettings(string readerKey, string writerKey)
    {
        var settings = CustomerApiFactory.SqliteSettings(TempDirectory.ForRun());
        settings.AddApiKey("reporting", readerKey, Scopes.Read);
        settings.AddApiKey("support", writerKey, Scopes.Read, Scopes.Write, Scopes.Erase);
        return settings;
    }
}
