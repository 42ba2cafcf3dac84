using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Timeouts;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.HttpsPolicy;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace CustomerRecords.Api.Security;

/// <summary>Composition of the security module: <c>builder.AddSecurity()</c> and <c>app.UseSecurity()</c>.</summary>
public static partial class SecurityExtensions
{
    /// <summary>Name of the default scheme: forwards to <c>ApiKey</c> when <c>X-Api-Key</c> is present, else to <c>Bearer</c>.</summary>
    public const string DefaultScheme = "ApiKeyOrBearer";

    /// <summary>
    /// Registers authentication (JWT bearer + API key), the <see cref="Scopes"/> policies, problem details for
    /// 401/403/429, per-client rate limiting, request limits, forwarded headers, HSTS, log redaction and the log
    /// guard, secret files, the OpenAPI security schemes, the database TLS/IAM options and the start-up
    /// exposure check. Call it early in Program.cs, before other Add* calls that read secrets from configuration.
    /// </summary>
    public static WebApplicationBuilder AddSecurity(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Configuration.AddSecretFiles();
        var services = builder.Services;

        AddValidatedOptions<AuthOptions, AuthOptionsValidator>(services, AuthOptions.Section);
        AddValidatedOptions<RateLimitOptions, LimitOptionsValidator>(services, RateLimitOptions.Section);
        AddValidatedOptions<LimitsOptions, LimitOptionsValidator>(services, LimitsOptions.Section);
        AddValidatedOptions<NetworkOptions, LimitOptionsValidator>(services, NetworkOptions.Section);
        services.AddDatabaseSecurity();

        // Authentication: one policy scheme in front of JWT bearer and API key.
        services.AddAuthentication(DefaultScheme)
            .AddPolicyScheme(DefaultScheme, "API key or bearer token", o => o.ForwardDefaultSelector = SelectScheme)
            .AddJwtBearer()
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<IOptions<AuthOptions>>((jwt, auth) => ConfigureJwt(jwt, auth.Value));

        // Authorization: a policy per scope; deny by default once authentication is configured.
        services.AddAuthorization();
        services.AddOptions<AuthorizationOptions>().Configure<IOptions<AuthOptions>>((o, auth) => ConfigurePolicies(o, auth.Value));
        services.AddSingleton<IAuthorizationHandler, ScopeAuthorization>();
        services.AddSingleton<IAuthorizationHandler, OpenModeAuthorization>();
        services.AddSingleton<IAuthorizationMiddlewareResultHandler, ProblemAuthorizationResultHandler>();

        services.AddProblemDetails();
        services.PostConfigure<ProblemDetailsOptions>(o =>
        {
            var previous = o.CustomizeProblemDetails;
            o.CustomizeProblemDetails = context =>
            {
                previous?.Invoke(context);
                RemoveDiagnostics(context.ProblemDetails);
            };
        });

        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<RateLimitOptions>>((o, limits) => RateLimiting.Configure(o, limits.Value));

        services.AddOptions<KestrelServerOptions>().Configure<IOptions<LimitsOptions>>((kestrel, limits) => ConfigureKestrel(kestrel, limits.Value));
        services.AddRequestTimeouts();
        services.AddOptions<RequestTimeoutOptions>().Configure<IOptions<LimitsOptions>>((o, limits) => ConfigureTimeouts(o, limits.Value));

        services.AddOptions<ForwardedHeadersOptions>().Configure<IOptions<NetworkOptions>>((o, network) => ConfigureForwardedHeaders(o, network.Value));
        services.AddHsts(_ => { });
        services.AddOptions<HstsOptions>().Configure<IOptions<NetworkOptions>>((o, network) =>
        {
            o.MaxAge = network.Value.HstsMaxAge;
            o.IncludeSubDomains = false;
            o.Preload = false;
        });

        services.AddSingleton<ExposureGuard>();
        services.AddHostedService(sp => sp.GetRequiredService<ExposureGuard>());

        services.ConfigureAll<OpenApiOptions>(o =>
        {
            o.AddDocumentTransformer<OpenApiSecurityTransformer>();
            o.AddOperationTransformer<OpenApiSecurityTransformer>();
        });

        // Classified log values ([PersonalData], [SecretData]) are redacted; the log guard scrubs the rest.
        services.AddRedaction(r =>
        {
            r.SetRedactor<MarkerRedactor>(new Microsoft.Extensions.Compliance.Classification.DataClassificationSet(DataTaxonomy.PersonalData, DataTaxonomy.SecretData));
            r.SetFallbackRedactor<MarkerRedactor>();
        });
        builder.Logging.EnableRedaction();
        var development = builder.Environment.IsDevelopment();
        builder.Host.UseServiceProviderFactory(new LogGuardServiceProviderFactory(
            new ServiceProviderOptions { ValidateOnBuild = development, ValidateScopes = development }));
        return builder;
    }

    /// <summary>
    /// Adds the security middleware in order: forwarded headers (trusted proxies only), the exposure gate,
    /// security headers, HSTS and HTTPS redirection (when TLS is served), authentication, rate limiting,
    /// authorization and request timeouts. Call it before mapping endpoints.
    /// </summary>
    /// <remarks>
    /// The rate limiter runs between authentication and authorization on purpose: it needs the client's
    /// identity for its partition, and requests that will fail authorization (e.g. API-key guessing) must
    /// still count against their IP address.
    /// </remarks>
    public static WebApplication UseSecurity(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var network = app.Services.GetRequiredService<IOptions<NetworkOptions>>().Value;
        var trustsProxies = network.KnownProxies.Count > 0 || network.KnownNetworks.Count > 0;
        if (trustsProxies)
        {
            app.UseForwardedHeaders();
        }

        var guard = app.Services.GetRequiredService<ExposureGuard>();
        app.Use((context, next) =>
        {
            if (guard.Verified)
            {
                return next(context);
            }

            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            return Task.CompletedTask;
        });
        app.UseMiddleware<SecurityHeadersMiddleware>();

        var servesHttps = ServesHttps(app);
        if (servesHttps || trustsProxies)
        {
            // Sent only on HTTPS requests (direct, or via a trusted proxy's X-Forwarded-Proto), never for localhost.
            app.UseHsts();
        }

        if (servesHttps)
        {
            app.UseHttpsRedirection();
        }

        app.UseAuthentication();
        app.UseRateLimiter();
        app.UseAuthorization();
        app.UseRequestTimeouts();
        return app;
    }

    private static bool ServesHttps(WebApplication app) =>
        ExposureGuard.ConfiguredAddresses(app.Configuration)
            .Concat(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [])
            .Any(a => a.StartsWith("https://", StringComparison.OrdinalIgnoreCase));

    private static void AddValidatedOptions<TOptions, TValidator>(IServiceCollection services, string section)
        where TOptions : class
        where TValidator : class, IValidateOptions<TOptions>
    {
        services.AddOptions<TOptions>().BindConfiguration(section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<TOptions>, TValidator>();
    }

    private static string? SelectScheme(HttpContext context)
    {
        if (context.Request.Headers.ContainsKey(ApiKeyAuthenticationHandler.HeaderName))
        {
            return ApiKeyAuthenticationHandler.SchemeName;
        }

        var auth = context.RequestServices.GetRequiredService<IOptions<AuthOptions>>().Value;
        return auth.JwtEnabled || !auth.ApiKeysEnabled ? JwtBearerDefaults.AuthenticationScheme : ApiKeyAuthenticationHandler.SchemeName;
    }

    private static readonly string[] AsymmetricAlgorithms =
    [
        SecurityAlgorithms.RsaSha256, SecurityAlgorithms.RsaSha384, SecurityAlgorithms.RsaSha512,
        SecurityAlgorithms.RsaSsaPssSha256, SecurityAlgorithms.RsaSsaPssSha384, SecurityAlgorithms.RsaSsaPssSha512,
        SecurityAlgorithms.EcdsaSha256, SecurityAlgorithms.EcdsaSha384, SecurityAlgorithms.EcdsaSha512,
    ];

    private static void ConfigureJwt(JwtBearerOptions options, AuthOptions auth)
    {
        if (!auth.JwtEnabled)
        {
            return;
        }

        var jwt = auth.Jwt;
        options.Authority = jwt.Authority;
        options.Audience = jwt.Audience;
        options.RequireHttpsMetadata = jwt.RequireHttpsMetadata;
        options.MapInboundClaims = false;
        options.SaveToken = false;
        // error="invalid_token" is still sent (see OnChallenge); the descriptive text is not.
        options.IncludeErrorDetails = false;

        var parameters = options.TokenValidationParameters;
        parameters.ValidateIssuer = true;
        parameters.ValidateAudience = true;
        parameters.ValidateLifetime = true;
        parameters.ValidateIssuerSigningKey = true;
        parameters.RequireExpirationTime = true;
        parameters.RequireSignedTokens = true;
        parameters.ValidAudience = jwt.Audience;
        parameters.ClockSkew = jwt.ClockSkew;
        // Only the algorithms OIDC issuers sign with; never 'none' or a shared-secret HMAC.
        parameters.ValidAlgorithms = AsymmetricAlgorithms;
        parameters.NameClaimType = "sub";
        if (jwt.AudienceFromClientId)
        {
            var audience = jwt.Audience;
            parameters.AudienceValidator = (audiences, token, _) => ValidateAudienceOrClientId(audiences, token, audience);
        }

        options.Events = new JwtBearerEvents
        {
            OnAuthenticationFailed = context =>
            {
                var logger = context.HttpContext.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(SecurityExtensions).FullName!);
                SecurityLog.TokenRejected(logger, context.Exception.GetType().Name);
                return Task.CompletedTask;
            },
            OnChallenge = context =>
            {
                if (context.AuthenticateFailure is not null)
                {
                    context.Error = "invalid_token";
                }

                return Task.CompletedTask;
            },
        };
    }

    internal static bool ValidateAudienceOrClientId(IEnumerable<string> audiences, SecurityToken token, string? audience)
    {
        var list = audiences.ToList();
        if (list.Count > 0)
        {
            return list.Contains(audience, StringComparer.Ordinal);
        }

        // Cognito access tokens have no aud; the app client id is in client_id.
        return token is JsonWebToken jwt
            && jwt.TryGetPayloadValue<string>("client_id", out var clientId) && clientId == audience
            && jwt.TryGetPayloadValue<string>("token_use", out var use) && use == "access";
    }

    private static void ConfigurePolicies(AuthorizationOptions options, AuthOptions auth)
    {
        foreach (var scope in Scopes.All)
        {
            options.AddPolicy(scope, policy =>
            {
                if (auth.AuthenticationConfigured)
                {
                    policy.RequireAuthenticatedUser().AddRequirements(new ScopeRequirement(scope));
                }
                else
                {
                    policy.AddRequirements(new OpenModeRequirement());
                }
            });
        }

        if (auth.AuthenticationConfigured)
        {
            // Endpoints without their own policy (and unmatched routes) need a caller; health and docs opt out with AllowAnonymous().
            options.FallbackPolicy = new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build();
        }
    }

    private static void ConfigureKestrel(KestrelServerOptions kestrel, LimitsOptions limits)
    {
        kestrel.AddServerHeader = false;
        kestrel.Limits.MaxRequestBodySize = limits.MaxRequestBodySize;
        kestrel.Limits.MaxRequestHeadersTotalSize = limits.MaxRequestHeadersTotalSize;
        kestrel.Limits.MaxRequestHeaderCount = limits.MaxRequestHeaderCount;
        kestrel.Limits.RequestHeadersTimeout = limits.RequestHeadersTimeout;
        kestrel.Limits.KeepAliveTimeout = limits.KeepAliveTimeout;
        var rate = limits.MinRequestBodyDataRate;
        kestrel.Limits.MinRequestBodyDataRate = rate.BytesPerSecond > 0 ? new MinDataRate(rate.BytesPerSecond, rate.GracePeriod) : null;
    }

    private static void ConfigureTimeouts(RequestTimeoutOptions options, LimitsOptions limits)
    {
        if (limits.RequestTimeout <= TimeSpan.Zero)
        {
            return;
        }

        options.DefaultPolicy = new RequestTimeoutPolicy
        {
            Timeout = limits.RequestTimeout,
            TimeoutStatusCode = StatusCodes.Status504GatewayTimeout,
            WriteTimeoutResponse = context => SecurityProblems.WriteAsync(context, StatusCodes.Status504GatewayTimeout,
                "Request Timeout", "The request took too long and was cancelled."),
        };
    }

    private static void ConfigureForwardedHeaders(ForwardedHeadersOptions options, NetworkOptions network)
    {
        options.KnownProxies.Clear();
        options.KnownIPNetworks.Clear();
        if (network.KnownProxies.Count == 0 && network.KnownNetworks.Count == 0)
        {
            // Empty lists would mean "trust everyone" (e.g. with ASPNETCORE_FORWARDEDHEADERS_ENABLED); trust no one instead.
            options.ForwardedHeaders = ForwardedHeaders.None;
            return;
        }

        options.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
        options.ForwardLimit = network.ForwardLimit;
        foreach (var proxy in network.KnownProxies)
        {
            options.KnownProxies.Add(IPAddress.Parse(proxy));
        }

        foreach (var range in network.KnownNetworks)
        {
            options.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(range));
        }
    }

    /// <summary>Error responses never carry stack traces, SQL or connection strings, whatever produced them.</summary>
    internal static void RemoveDiagnostics(Microsoft.AspNetCore.Mvc.ProblemDetails problem)
    {
        problem.Extensions.Remove("exception");
        if (problem.Detail is not null && Diagnostics().IsMatch(problem.Detail))
        {
            problem.Detail = null;
        }

        if (problem.Title is not null && Diagnostics().IsMatch(problem.Title))
        {
            problem.Title = "An error occurred while processing the request.";
        }
    }

    [GeneratedRegex(@"(?is)\bselect\b.+\bfrom\b|\binsert\s+into\b|\bupdate\b.+\bset\b|\bdelete\s+from\b|\bsql\b|\n\s*at\s+\S+\(|(?:password|pwd|user\s?id|uid|server|data\s+source|host)\s*=")]
    private static partial Regex Diagnostics();
}
