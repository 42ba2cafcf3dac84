using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace CustomerRecords.Api.Auth;

/// <summary>Who may call the API: <c>builder.AddAuth()</c>, then <c>app.UseExposureGate()</c> and the framework's authentication and authorization middleware.</summary>
public static class AuthExtensions
{
    /// <summary>Name of the default scheme: forwards to <c>ApiKey</c> when <c>X-Api-Key</c> is present, else to <c>Bearer</c>.</summary>
    public const string DefaultScheme = "ApiKeyOrBearer";

    /// <summary>
    /// Registers authentication (JWT bearer + API key), the <see cref="Scopes"/> policies (deny by default once
    /// authentication is configured), problem documents for 401/403 and the start-up exposure check.
    /// </summary>
    public static WebApplicationBuilder AddAuth(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddOptions<AuthOptions>().BindConfiguration(AuthOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<AuthOptions>, AuthOptionsValidator>();

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

        // Open mode has no authorization middleware (UseAuthenticationAndAuthorization), so routing must not refuse
        // endpoints for carrying policies nobody checks; with authentication configured the check stays on.
        services.AddOptions<RouteOptions>().Configure<IOptions<AuthOptions>>((routing, auth) =>
            routing.SuppressCheckForUnhandledSecurityMetadata = !auth.Value.AuthenticationConfigured);

        services.AddSingleton<ExposureGuard>();
        services.AddHostedService(sp => sp.GetRequiredService<ExposureGuard>());
        return builder;
    }

    /// <summary>
    /// The framework's authentication and authorization middleware, when authentication is configured. In open
    /// mode (no API keys, no token issuer) every policy is the open-mode one, which grants everything, and no
    /// caller is identified, so both middlewares would only cost time: together about 60% of a cached read's
    /// allocations (bench/results/2026-12-03-issue17.md, section 5). They are then left out, and marked as placed
    /// so that WebApplication does not add them at the start of the pipeline itself (it does when their services
    /// are registered and the app never called UseAuthentication/UseAuthorization). <paramref name="between"/>
    /// runs between the two either way (the rate limiter: see <c>UseEdge</c>).
    /// </summary>
    /// <remarks>
    /// The mode is the one read at start, like the exposure guard's: moving between open mode and keys or tokens
    /// takes a restart.
    /// </remarks>
    public static WebApplication UseAuthenticationAndAuthorization(this WebApplication app, Action<WebApplication> between)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(between);
        if (!app.Services.GetRequiredService<IOptions<AuthOptions>>().Value.AuthenticationConfigured)
        {
            IApplicationBuilder builder = app;
            builder.Properties[AuthenticationMiddlewareSetKey] = true;
            builder.Properties[AuthorizationMiddlewareSetKey] = true;
            between(app);
            return app;
        }

        app.UseAuthentication();
        between(app);
        app.UseAuthorization();
        return app;
    }

    // The keys UseAuthentication()/UseAuthorization() set on IApplicationBuilder.Properties, and that WebApplication
    // checks before adding the middlewares itself (Microsoft.AspNetCore.Builder.AuthAppBuilderExtensions and
    // AuthorizationAppBuilderExtensions). OpenModePipelineTests fail if they stop being honoured.
    private const string AuthenticationMiddlewareSetKey = "__AuthenticationMiddlewareSet";
    private const string AuthorizationMiddlewareSetKey = "__AuthorizationMiddlewareSet";

    /// <summary>
    /// Answers 503 until the exposure guard has seen the server's real addresses: an open service never
    /// serves from a public address, even for a moment.
    /// </summary>
    public static WebApplication UseExposureGate(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
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
        return app;
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
                var logger = context.HttpContext.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(AuthExtensions).FullName!);
                AuthLog.TokenRejected(logger, context.Exception.GetType().Name);
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
}
