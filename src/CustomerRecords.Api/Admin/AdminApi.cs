using System.Security.Claims;
using System.Text.Json.Serialization;
using CustomerRecords.Api.Auth;
using CustomerRecords.Api.Customers;
using CustomerRecords.Api.Errors;
using CustomerRecords.Api.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace CustomerRecords.Api.Admin;

/// <summary>
/// The admin web page at <c>/admin</c>: <c>builder.AddAdmin()</c>, <c>app.MapAdmin()</c>. The page and its files are
/// anonymous (they hold no data); every data call the page makes goes to the REST API with the user's credential.
/// </summary>
public static class AdminApi
{
    /// <summary>Where the page lives.</summary>
    public const string BasePath = "/admin";

    /// <summary>The OIDC redirect URI's path: the shell again, which finishes the code exchange.</summary>
    public const string CallbackPath = "/admin/callback";

    private const string ShellFile = "index.html";

    public static WebApplicationBuilder AddAdmin(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddOptions<AdminOptions>().BindConfiguration(AdminOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<AdminOptions>, AdminOptionsValidator>();
        services.AddSingleton<AdminAssets>();
        services.AddSingleton<AdminSignIn>();
        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, AdminJsonContext.Default));
        return builder;
    }

    /// <summary>
    /// Maps the shell (<c>/admin</c>, <c>/admin/</c>, <c>/admin/callback</c>), its files (<c>/admin/{file}</c>), the
    /// anonymous <c>/admin/config</c> and the authenticated <c>/admin/whoami</c>. They are the page's own plumbing,
    /// not the API, so they stay out of the OpenAPI document.
    /// </summary>
    public static RouteGroupBuilder MapAdmin(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var auth = app.ServiceProvider.GetRequiredService<IOptions<AuthOptions>>().Value;
        var group = app.MapGroup(BasePath).ExcludeFromDescription();
        // "/admin/" also matches /admin: routing ignores a trailing slash.
        string[] getOrHead = [HttpMethods.Get, HttpMethods.Head];
        group.MapMethods("/", getOrHead, GetAdminShell).AllowAnonymous();
        group.MapMethods("/callback", getOrHead, GetAdminShell).AllowAnonymous();
        group.MapGet("/config", GetAdminConfig).AllowAnonymous();
        var whoami = group.MapGet("/whoami", GetAdminIdentity);
        if (auth.AuthenticationConfigured)
        {
            // Any authenticated caller, whatever its scopes: the answer is what those scopes are.
            whoami.RequireAuthorization();
        }

        group.MapMethods("/{**file:minlength(1)}", getOrHead, GetAdminAsset).AllowAnonymous();
        return group;
    }

    /// <summary>The page shell: never cached (it names the current files), with the CSP that lets it reach the token endpoint.</summary>
    internal static async Task<IResult> GetAdminShell(HttpContext http, AdminAssets assets, AdminSignIn signIn, CancellationToken ct)
    {
        var shell = assets.Find(ShellFile);
        if (shell is null)
        {
            return Problems.ForStatus(StatusCodes.Status404NotFound, "Not Found", "The admin page is not part of this build.");
        }

        var endpoints = signIn.Configured ? await signIn.EndpointsAsync(ct) : null;
        http.Response.Headers.ContentSecurityPolicy = SecurityHeadersMiddleware.AdminCsp(endpoints?.TokenEndpoint);
        http.Response.Headers.CacheControl = "no-store";
        return TypedResults.Bytes(shell.Content, shell.ContentType);
    }

    /// <summary>A static file of the page, revalidated by its ETag (the names are not fingerprinted, so no long max-age).</summary>
    internal static IResult GetAdminAsset(string file, HttpContext http, AdminAssets assets)
    {
        var asset = file == ShellFile ? null : assets.Find(file);
        if (asset is null)
        {
            return Problems.ForStatus(StatusCodes.Status404NotFound, "Not Found", "The admin page has no such file.");
        }

        var headers = http.Response.Headers;
        headers.ETag = asset.ETag.ToString();
        headers.CacheControl = "no-cache";
        var ifNoneMatch = http.Request.GetTypedHeaders().IfNoneMatch;
        if (ifNoneMatch.Any(t => t.Equals(EntityTagHeaderValue.Any) || t.Compare(asset.ETag, useStrongComparison: false)))
        {
            return TypedResults.StatusCode(StatusCodes.Status304NotModified);
        }

        return TypedResults.Bytes(asset.Content, asset.ContentType);
    }

    /// <summary>How the page signs in; anonymous, as the page needs it before it has a credential.</summary>
    internal static async Task<Results<Ok<AdminConfig>, ProblemHttpResult>> GetAdminConfig(
        HttpRequest request, IOptions<AuthOptions> auth, IOptions<AdminOptions> admin, AdminSignIn signIn, CancellationToken ct)
    {
        var options = auth.Value;
        if (!options.AuthenticationConfigured)
        {
            return TypedResults.Ok(new AdminConfig(AdminMode.Open, ApiKeys: false, Oidc: null));
        }

        if (!signIn.Configured)
        {
            return TypedResults.Ok(new AdminConfig(AdminMode.Keys, options.ApiKeysEnabled, Oidc: null));
        }

        var endpoints = await signIn.EndpointsAsync(ct);
        if (endpoints is null && options.ApiKeysEnabled)
        {
            // The issuer is down or misconfigured (logged by AdminSignIn): staff with an API key can still sign in.
            return TypedResults.Ok(new AdminConfig(AdminMode.Keys, ApiKeys: true, Oidc: null));
        }

        if (endpoints is null)
        {
            request.HttpContext.Response.Headers.RetryAfter = ErrorHandler.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return Problems.ForStatus(StatusCodes.Status503ServiceUnavailable, "Sign-in is unavailable",
                "The OIDC issuer's discovery document (Auth:Jwt:Authority) could not be read or lacks its authorization and token endpoints; retry shortly.");
        }

        // The page's own origin: the issuer compares it with the callback URLs registered for the client.
        var redirect = admin.Value.RedirectUri?.AbsoluteUri ?? $"{request.Scheme}://{request.Host}{request.PathBase}{CallbackPath}";
        var oidc = new AdminOidc(endpoints.AuthorizationEndpoint.AbsoluteUri, endpoints.TokenEndpoint.AbsoluteUri,
            admin.Value.ClientId!, admin.Value.ScopesFor(options.Jwt), redirect);
        return TypedResults.Ok(new AdminConfig(AdminMode.Oidc, options.ApiKeysEnabled, oidc));
    }

    /// <summary>Who the caller is and which scopes it holds, decided by the same rule the API's policies use.</summary>
    internal static Ok<AdminIdentity> GetAdminIdentity(ClaimsPrincipal user, IOptions<AuthOptions> auth)
    {
        // The same options the scope policies and MapAdmin read: fixed at start, like the authentication itself.
        var options = auth.Value;
        if (!options.AuthenticationConfigured)
        {
            return TypedResults.Ok(new AdminIdentity("anonymous", [.. Scopes.All]));
        }

        // The same words history uses for who made a change (key:…, user:…, client:…).
        var name = ChangeContext.ActorOf(user);
        var scopes = Scopes.All.Where(s => ScopeAuthorization.HasScope(user, s, options.Jwt)).ToArray();
        return TypedResults.Ok(new AdminIdentity(name, scopes));
    }
}

/// <summary>How the page signs in.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<AdminMode>))]
public enum AdminMode
{
    /// <summary>No authentication configured: the service runs open on loopback; the page needs no sign-in.</summary>
    [JsonStringEnumMemberName("open")] Open,

    /// <summary>API keys only: the page asks for a key.</summary>
    [JsonStringEnumMemberName("keys")] Keys,

    /// <summary>OIDC sign-in (authorization code + PKCE), and an API key too when <c>api_keys</c> is true.</summary>
    [JsonStringEnumMemberName("oidc")] Oidc,
}

/// <summary>The answer of <c>GET /admin/config</c>.</summary>
/// <param name="Mode">open, keys or oidc.</param>
/// <param name="ApiKeys">True when API keys are configured, so the page offers key sign-in.</param>
/// <param name="Oidc">The OIDC client settings, in oidc mode only.</param>
public sealed record AdminConfig(AdminMode Mode, bool ApiKeys, AdminOidc? Oidc);

/// <summary>What the page needs for authorization code + PKCE as a public client.</summary>
public sealed record AdminOidc(string AuthorizationEndpoint, string TokenEndpoint, string ClientId, string Scope, string RedirectUri);

/// <summary>The answer of <c>GET /admin/whoami</c>: the caller as history records it (<c>key:</c>, <c>user:</c>) and its scopes.</summary>
public sealed record AdminIdentity(string Name, IReadOnlyList<string> Scopes);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(AdminConfig))]
[JsonSerializable(typeof(AdminIdentity))]
internal sealed partial class AdminJsonContext : JsonSerializerContext;
