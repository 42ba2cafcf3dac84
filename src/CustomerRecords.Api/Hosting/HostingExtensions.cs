using System.Net;
using CustomerRecords.Api.Auth;
using CustomerRecords.Api.Errors;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Timeouts;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.HttpsPolicy;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace CustomerRecords.Api.Hosting;

/// <summary>
/// The request edge: Kestrel limits, request timeouts, trusted forwarded headers, security headers and
/// HSTS, and per-client rate limits. <c>builder.AddHosting()</c> registers them; <c>app.UseEdge()</c>
/// puts them, with authentication and authorization, in the one order that works.
/// </summary>
public static class HostingExtensions
{
    public static WebApplicationBuilder AddHosting(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        AddValidatedOptions<RateLimitOptions, RateLimitOptionsValidator>(services, RateLimitOptions.Section);
        AddValidatedOptions<LimitsOptions, LimitsOptionsValidator>(services, LimitsOptions.Section);
        AddValidatedOptions<NetworkOptions, NetworkOptionsValidator>(services, NetworkOptions.Section);

        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<RateLimitOptions>, IServiceProvider>((o, limits, sp) => RateLimiting.Configure(o, limits.Value, sp));

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
        return builder;
    }

    /// <summary>
    /// The edge middleware in order: forwarded headers (trusted proxies only), the exposure gate, security
    /// headers, HSTS and HTTPS redirection (when TLS is served), authentication, rate limiting, authorization
    /// (the two only when authentication is configured) and request timeouts. Call it before mapping endpoints.
    /// </summary>
    /// <remarks>
    /// The rate limiter runs between authentication and authorization on purpose: it needs the client's
    /// identity for its partition, and requests that will fail authorization (e.g. API-key guessing) must
    /// still count against their IP address.
    /// </remarks>
    public static WebApplication UseEdge(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var network = app.Services.GetRequiredService<IOptions<NetworkOptions>>().Value;
        var trustsProxies = network.KnownProxies.Count > 0 || network.KnownNetworks.Count > 0;
        if (trustsProxies)
        {
            app.UseForwardedHeaders();
        }

        app.UseExposureGate();
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

        app.UseAuthenticationAndAuthorization(between => between.UseRateLimiter());
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
            WriteTimeoutResponse = context => Problems.WriteAsync(context, Problems.Timeout()),
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
}
