using System.Text.Json;
using CustomerRecords.Api.Auth;
using CustomerRecords.Api.Data;
using CustomerRecords.Api.Errors;
using CustomerRecords.Api.Hosting;
using CustomerRecords.Api.Redaction;
using CustomerRecords.Api.Secrets;
using CustomerRecords.Tests.Redaction;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;

namespace CustomerRecords.Tests.Auth;

/// <summary>
/// A tiny API with the request edge wired like Program.cs wires it (auth, hosting limits, redaction), the
/// <see cref="ProtectedRoutes"/> with their scopes, an anonymous <c>/health/live</c>, a <c>/docs</c> page and
/// an endpoint that fails with a database-looking error. Runs on TestServer unless Kestrel is asked for.
/// </summary>
internal sealed partial class SecurityTestHost : IAsyncDisposable
{
    public const string TestEmail = "alice.liddell@example.com";
    public const string TestPhone = "+49 151 23456789";

    private SecurityTestHost(WebApplication app, LogCapture logs, HttpClient client)
    {
        App = app;
        Logs = logs;
        Client = client;
    }

    public WebApplication App { get; }

    public LogCapture Logs { get; }

    public HttpClient Client { get; }

    /// <summary>Test configuration with JWT (trusting <see cref="TestTokens"/>) and two API keys.</summary>
    public static Dictionary<string, string?> SecuredConfig(string readerKey, string writerKey) => new()
    {
        ["Auth:Jwt:Authority"] = TestTokens.Issuer,
        ["Auth:Jwt:Audience"] = TestTokens.Audience,
        ["Auth:ApiKeys:0:Name"] = "reporting",
        ["Auth:ApiKeys:0:Hash"] = ApiKeyHash.Hash(readerKey),
        ["Auth:ApiKeys:0:Scopes:0"] = Scopes.Read,
        ["Auth:ApiKeys:1:Name"] = "crm-sync",
        ["Auth:ApiKeys:1:Hash"] = ApiKeyHash.Hash(writerKey),
        ["Auth:ApiKeys:1:Scopes:0"] = Scopes.Read,
        ["Auth:ApiKeys:1:Scopes:1"] = Scopes.Write,
        ["Auth:ApiKeys:1:Scopes:2"] = Scopes.Erase,
    };

    public static WebApplicationBuilder CreateBuilder(IDictionary<string, string?> config, LogCapture logs, string environment = "Production", bool kestrel = false)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            EnvironmentName = environment,
            ApplicationName = typeof(Program).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Configuration.AddInMemoryCollection(config);

        // The app's appsettings.json (copied beside the tests) quiets the framework; these tests read everything.
        builder.Configuration.AddInMemoryCollection([new("Logging:LogLevel:Microsoft.AspNetCore", "Trace")]);
        if (!kestrel)
        {
            builder.WebHost.UseTestServer();
        }

        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Trace);
        builder.Logging.AddProvider(logs);
        // The request edge as Program.cs wires it, without the database and the customer feature.
        builder.Configuration.AddSecretFiles();
        builder.AddLogRedaction();
        builder.Services.AddProblemDocuments();
        builder.AddAuth();
        builder.AddHosting();
        builder.Services.AddDatabaseSecurity();

        // Stand-in for the OIDC discovery document: the test issuer and its signing key, no network.
        builder.Services.PostConfigure<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme, o =>
            o.ConfigurationManager = new StaticConfigurationManager<OpenIdConnectConfiguration>(
                new OpenIdConnectConfiguration { Issuer = TestTokens.Issuer, SigningKeys = { TestTokens.SigningKey } }));
        return builder;
    }

    public static async Task<SecurityTestHost> StartAsync(
        IDictionary<string, string?> config,
        Action<WebApplicationBuilder>? configureBuilder = null,
        Action<WebApplication>? configureApp = null,
        string environment = "Production",
        bool kestrel = false)
    {
        var logs = new LogCapture();
        var builder = CreateBuilder(config, logs, environment, kestrel);
        configureBuilder?.Invoke(builder);
        var app = builder.Build();
        // Like the core's error handling: unhandled exceptions become a 500 problem (the developer page in Development).
        if (!app.Environment.IsDevelopment())
        {
            app.UseExceptionHandler();
        }

        app.UseEdge();
        configureApp?.Invoke(app);
        MapEndpoints(app);
        try
        {
            await app.StartAsync();
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        var client = kestrel
            ? new HttpClient { BaseAddress = new Uri(app.Urls.First()) }
            : app.GetTestClient();
        return new SecurityTestHost(app, logs, client);
    }

    public static void MapEndpoints(WebApplication app)
    {
        app.MapGet("/health/live", () => "healthy").AllowAnonymous().DisableRateLimiting();
        app.MapGet("/docs", () => Results.Content("<html><body>docs</body></html>", "text/html")).AllowAnonymous();

        app.MapGet("/customers", () => Results.Ok(Array.Empty<object>())).RequireAuthorization(Scopes.Read);
        app.MapPost("/customers", CreateCustomer).RequireAuthorization(Scopes.Write);
        app.MapGet("/customers/{id}", (string id) => Results.Ok(new { id })).RequireAuthorization(Scopes.Read);
        app.MapPut("/customers/{id}", (string id, JsonElement body) => Results.Ok(new { id })).RequireAuthorization(Scopes.Write);
        app.MapPatch("/customers/{id}", (string id, JsonElement body) => Results.Ok(new { id })).RequireAuthorization(Scopes.Write);
        app.MapDelete("/customers/{id}", (string id) => Results.NoContent()).RequireAuthorization(Scopes.Write);
        app.MapPost("/customers/{id}/restore", (string id) => Results.Ok(new { id })).RequireAuthorization(Scopes.Write);
        app.MapPost("/customers/{id}/erase", (string id) => Results.NoContent()).RequireAuthorization(Scopes.Erase);
        app.MapGet("/customers/{id}/history", (string id) => Results.Ok(new { items = Array.Empty<object>() })).RequireAuthorization(Scopes.Read);
        app.MapGet("/customers/{id}/export", (string id) => Results.Ok(new { id })).RequireAuthorization(Scopes.Read);
        app.MapGet("/changes", () => Results.Ok(new { items = Array.Empty<object>() })).RequireAuthorization(Scopes.Read);

        app.MapPost("/create", CreateCustomer).RequireAuthorization(Scopes.Write);
        app.MapGet("/read/{id}", (string id) => Results.Ok(new { id })).RequireAuthorization(Scopes.Read);
        app.MapPut("/update/{id}", (string id, JsonElement body) => Results.Ok(new { id })).RequireAuthorization(Scopes.Write);
        app.MapDelete("/delete/{id}", (string id) => Results.Ok(new { id })).RequireAuthorization(Scopes.Write);

        app.MapGet("/whoami", (HttpContext http) => new
        {
            ip = http.Connection.RemoteIpAddress?.ToString(),
            scheme = http.Request.Scheme,
            name = http.User.Identity?.Name,
        }).AllowAnonymous();

        app.MapGet("/slow", async (CancellationToken cancellationToken) =>
        {
            await Task.Delay(TimeSpan.FromSeconds(30), cancellationToken);
            return "done";
        }).RequireAuthorization(Scopes.Read);

        // Fails like a careless data layer would: SQL, an email and a connection string in the exception message.
        app.MapGet("/boom", string () => throw new InvalidOperationException(
            $"Duplicate entry '{TestEmail}' for key 'email' in SELECT id, email FROM customers WHERE email = '{TestEmail}'; " +
            "Server=db.internal;User ID=app;Password=hunter2-secret"))
            .RequireAuthorization(Scopes.Read);
    }

    private static IResult CreateCustomer(JsonElement body, ILoggerFactory loggers)
    {
        var logger = loggers.CreateLogger("CustomerRecords.Tests.Customers");
        var email = body.TryGetProperty("email", out var e) ? e.GetString() ?? "" : "";
        var phone = body.TryGetProperty("phone", out var p) ? p.GetString() ?? "" : "";
        // The careless way: plain structured logging of personal data. The log guard must catch it.
#pragma warning disable CA1848, CA1873 // deliberately not source-generated: this is what the guard is for
        logger.LogInformation("Creating customer {Email} with phone {Phone}", email, phone);
#pragma warning restore CA1848, CA1873
        // The intended way: classified parameters, redacted by Microsoft.Extensions.Compliance.Redaction.
        CustomerCreated(logger, email, phone);
        return Results.Created("/customers/1", new { id = 1 });
    }

    [LoggerMessage(9900, LogLevel.Information, "Created customer {Email} {Phone}")]
    private static partial void CustomerCreated(ILogger logger, [PersonalData] string email, [PersonalData] string phone);

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }
}
