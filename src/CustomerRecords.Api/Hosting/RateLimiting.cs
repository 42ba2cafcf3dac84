using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Threading.RateLimiting;
using CustomerRecords.Api.Auth;
using CustomerRecords.Api.Caching;
using CustomerRecords.Api.Errors;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace CustomerRecords.Api.Hosting;

/// <summary>Global per-client fixed-window limiter answering 429 with <c>Retry-After</c>.</summary>
internal static class RateLimiting
{
    /// <summary>The store in use: <see cref="RateLimitOptions.Store"/>, else Redis when <c>Cache:Mode</c> is Redis, else memory.</summary>
    public static RateLimitStore EffectiveStore(RateLimitOptions limits, IConfiguration configuration) =>
        limits.Store ?? (Enum.TryParse<CacheMode>(configuration[$"{CacheOptions.Section}:Mode"], ignoreCase: true, out var mode) && mode == CacheMode.Redis
            ? RateLimitStore.Redis
            : RateLimitStore.Memory);

    public static void Configure(RateLimiterOptions options, RateLimitOptions limits, IServiceProvider services)
    {
        options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
        options.OnRejected = (context, _) => OnRejected(context, limits.Window);
        if (!limits.Enabled)
        {
            return;
        }

        if (EffectiveStore(limits, services.GetRequiredService<IConfiguration>()) == RateLimitStore.Redis)
        {
            // One outage state per instance, shared by every client's limiter; the connection is the cache's.
            var shared = new SharedRateLimitState(
                services.GetRequiredService<RedisConnection>(),
                services.GetRequiredService<IOptions<CacheOptions>>().Value.KeyPrefix,
                limits,
                services.GetService<TimeProvider>() ?? TimeProvider.System,
                services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(SharedRateLimiter).FullName!));
            options.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(http =>
                new RateLimitPartition<string>(PartitionKey(http), key => new SharedRateLimiter(key, shared)));
            return;
        }

        options.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(http =>
            RateLimitPartition.GetFixedWindowLimiter(PartitionKey(http), _ => new FixedWindowRateLimiterOptions
            {
                PermitLimit = limits.PermitLimit,
                Window = limits.Window,
                QueueLimit = 0,
                AutoReplenishment = true,
            }));
    }

    /// <summary>API client name, else token subject, else client IP (IPv6 grouped by /64).</summary>
    internal static string PartitionKey(HttpContext http)
    {
        var user = http.User;
        if (user.Identity?.IsAuthenticated == true)
        {
            var client = user.FindFirst(ApiKeyAuthenticationHandler.ClientClaim)?.Value;
            if (client is not null)
            {
                return "key:" + client;
            }

            var subject = user.FindFirst("sub")?.Value ?? user.FindFirst("client_id")?.Value ?? user.Identity.Name;
            if (subject is not null)
            {
                return "sub:" + subject;
            }
        }

        var ip = http.Connection.RemoteIpAddress;
        if (ip is null)
        {
            return "ip:unknown";
        }

        if (ip.IsIPv4MappedToIPv6)
        {
            ip = ip.MapToIPv4();
        }

        if (ip.AddressFamily == AddressFamily.InterNetworkV6)
        {
            // One IPv6 client usually holds a whole /64.
            var bytes = ip.GetAddressBytes();
            Array.Clear(bytes, 8, 8);
            ip = new IPAddress(bytes);
        }

        return "ip:" + ip;
    }

    private static async ValueTask OnRejected(OnRejectedContext context, TimeSpan window)
    {
        var http = context.HttpContext;
        var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : window;
        var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
        http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);

        var logger = http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(RateLimiting).FullName!);
        var key = PartitionKey(http);
        // Client names are logged; IP addresses are personal data and only their kind is.
        HostingLog.RateLimited(logger, key.StartsWith("ip:", StringComparison.Ordinal) ? "ip" : key, seconds);

        if (!http.Response.HasStarted)
        {
            await Problems.WriteAsync(http, Problems.RateLimited(seconds));
        }
    }
}
