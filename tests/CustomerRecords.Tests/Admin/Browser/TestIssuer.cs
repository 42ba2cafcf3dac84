using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using CustomerRecords.Tests.Auth;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.Tokens;

namespace CustomerRecords.Tests.Admin.Browser;

/// <summary>
/// A minimal OIDC issuer on a loopback port (plain http) for the admin page's sign-in: discovery, JWKS (the
/// <see cref="TestTokens.SigningKey"/>), an authorization endpoint whose page has one "Sign in" button, and a token
/// endpoint for the authorization code grant with PKCE (S256 only). Every check that fails answers 400
/// <c>invalid_request</c> (authorize) or <c>invalid_grant</c> (token), so a page that skips a step cannot sign in.
/// </summary>
public sealed class TestIssuer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, AuthorizeRequest> _pending = new();
    private readonly ConcurrentDictionary<string, AuthorizeRequest> _codes = new();
    private string? _pageOrigin;
    private string? _redirectUri;
    private int _tokensIssued;

    private TestIssuer(WebApplication app, string clientId)
    {
        _app = app;
        ClientId = clientId;
    }

    /// <summary>The issuer URL, <c>http://127.0.0.1:PORT</c> (no trailing slash), also the tokens' <c>iss</c>.</summary>
    public string Issuer { get; private set; } = "";

    /// <summary>The page's public client id, also the tokens' <c>aud</c>.</summary>
    public string ClientId { get; }

    /// <summary>The <c>scope</c> claim of the next tokens.</summary>
    public string Scope { get; set; } = "customers:read customers:write";

    /// <summary>The <c>sub</c> claim of the next tokens.</summary>
    public string Subject { get; set; } = "ann.admin";

    /// <summary>How many access tokens the token endpoint has handed out.</summary>
    public int TokensIssued => Volatile.Read(ref _tokensIssued);

    public static async Task<TestIssuer> StartAsync(string clientId = "admin-page-test-client")
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var issuer = new TestIssuer(app, clientId);
        issuer.Map();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        issuer.Issuer = address.TrimEnd('/');
        return issuer;
    }

    /// <summary>Registers the page at <paramref name="origin"/>: its callback URL, and CORS for its fetch of the token endpoint.</summary>
    public void AllowPage(Uri origin)
    {
        _pageOrigin = origin.GetLeftPart(UriPartial.Authority);
        _redirectUri = _pageOrigin + "/admin/callback";
    }

    /// <summary>The S256 code challenge of <paramref name="verifier"/> (RFC 7636: BASE64URL(SHA256(ASCII(verifier)))).</summary>
    public static string Challenge(string verifier) => Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));

    private void Map()
    {
        _app.MapGet("/.well-known/openid-configuration", (HttpContext http) =>
        {
            AllowCors(http);
            return Results.Json(new JsonObject
            {
                ["issuer"] = Issuer,
                ["authorization_endpoint"] = Issuer + "/authorize",
                ["token_endpoint"] = Issuer + "/token",
                ["jwks_uri"] = Issuer + "/jwks",
                ["response_types_supported"] = new JsonArray("code"),
                ["grant_types_supported"] = new JsonArray("authorization_code"),
                ["subject_types_supported"] = new JsonArray("public"),
                ["id_token_signing_alg_values_supported"] = new JsonArray("RS256"),
                ["code_challenge_methods_supported"] = new JsonArray("S256"),
                ["token_endpoint_auth_methods_supported"] = new JsonArray("none"),
            });
        });

        _app.MapGet("/jwks", () =>
        {
            var key = JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(TestTokens.SigningKey.Rsa.ExportParameters(false)) { KeyId = TestTokens.SigningKey.KeyId });
            return Results.Json(new JsonObject
            {
                ["keys"] = new JsonArray(new JsonObject { ["kty"] = "RSA", ["use"] = "sig", ["alg"] = "RS256", ["kid"] = key.Kid, ["n"] = key.N, ["e"] = key.E }),
            });
        });

        _app.MapGet("/authorize", (HttpContext http) =>
        {
            var q = http.Request.Query;
            var problem = q["response_type"] != "code" ? "response_type must be code"
                : q["client_id"] != ClientId ? "unknown client_id"
                : _redirectUri is null || q["redirect_uri"] != _redirectUri ? "redirect_uri is not registered"
                : q["code_challenge_method"] != "S256" ? "code_challenge_method must be S256"
                : string.IsNullOrEmpty(q["code_challenge"]) ? "code_challenge is missing"
                : string.IsNullOrEmpty(q["state"]) ? "state is missing"
                : null;
            if (problem is not null)
            {
                return Results.Text($"invalid_request: {problem}", statusCode: 400);
            }

            var id = RandomText();
            _pending[id] = new AuthorizeRequest(q["client_id"]!, q["redirect_uri"]!, q["code_challenge"]!, q["state"]!, q["scope"].ToString());
            var html = $"""
                <!doctype html>
                <html lang="en"><head><meta charset="utf-8"><title>Test issuer sign-in</title></head>
                <body><main><h1>Test issuer</h1>
                <form method="post" action="/authorize/{id}"><button type="submit">Sign in</button></form>
                </main></body></html>
                """;
            return Results.Content(html, "text/html; charset=utf-8");
        });

        _app.MapPost("/authorize/{id}", (string id) =>
        {
            if (!_pending.TryRemove(id, out var request))
            {
                return Results.Text("invalid_request: unknown sign-in", statusCode: 400);
            }

            var code = RandomText();
            _codes[code] = request;
            var redirect = $"{request.RedirectUri}?code={Uri.EscapeDataString(code)}&state={Uri.EscapeDataString(request.State)}";
            return Results.Redirect(redirect);
        });

        _app.MapMethods("/token", ["OPTIONS"], (HttpContext http) =>
        {
            AllowCors(http);
            http.Response.Headers.AccessControlAllowMethods = "POST";
            http.Response.Headers.AccessControlAllowHeaders = "Content-Type";
            return Results.NoContent();
        });

        _app.MapPost("/token", async (HttpContext http) =>
        {
            AllowCors(http);
            if (!http.Request.HasFormContentType)
            {
                return InvalidGrant();
            }

            var form = await http.Request.ReadFormAsync();
            var code = form["code"].ToString();
            // Single use: the code is gone whether or not the rest of the request is right.
            if (form["grant_type"] != "authorization_code" || !_codes.TryRemove(code, out var request)
                || form["client_id"] != request.ClientId || form["redirect_uri"] != request.RedirectUri
                || string.IsNullOrEmpty(form["code_verifier"]) || Challenge(form["code_verifier"]!) != request.Challenge)
            {
                return InvalidGrant();
            }

            var token = TestTokens.Create(scope: Scope, issuer: Issuer, audience: ClientId, subject: Subject);
            Interlocked.Increment(ref _tokensIssued);
            return Results.Json(new JsonObject { ["access_token"] = token, ["token_type"] = "Bearer", ["expires_in"] = 600 });
        });
    }

    private static IResult InvalidGrant() => Results.Json(new JsonObject { ["error"] = "invalid_grant" }, statusCode: 400);

    private void AllowCors(HttpContext http)
    {
        if (_pageOrigin is not null && http.Request.Headers.Origin == _pageOrigin)
        {
            http.Response.Headers.AccessControlAllowOrigin = _pageOrigin;
            http.Response.Headers.Vary = "Origin";
        }
    }

    private static string RandomText() => Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(24));

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();

    private sealed record AuthorizeRequest(string ClientId, string RedirectUri, string Challenge, string State, string Scope);
}
