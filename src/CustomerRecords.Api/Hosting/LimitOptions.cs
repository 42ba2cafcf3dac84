using Microsoft.Extensions.Options;

namespace CustomerRecords.Api.Hosting;

/// <summary>Per-client request rate limit (configuration section <c>RateLimit</c>).</summary>
/// <remarks>
/// With <see cref="Store"/> <c>Memory</c> counters live in each instance's memory: behind a load balancer with
/// N instances a client gets up to N × <see cref="PermitLimit"/> per window. With <c>Redis</c> (the default in
/// <c>Cache:Mode=Redis</c>) they are counted in Redis, shared by every instance; while Redis is unreachable each
/// instance falls back to its own counter (never to no limit). Clients are told apart by API key name, then token subject,
/// then IP address (IPv6 by /64), so the IP only counts when <c>Network:KnownProxies</c>/<c>KnownNetworks</c>
/// let the real client address through.
/// </remarks>
public sealed class RateLimitOptions
{
    /// <summary>Configuration section name.</summary>
    public const string Section = "RateLimit";

    /// <summary>Turn rate limiting on or off. Default true.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Requests one client may make per <see cref="Window"/>. Default 600.</summary>
    public int PermitLimit { get; set; } = 600;

    /// <summary>Length of the fixed window. Default 1 minute.</summary>
    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Where the counters live: <c>Memory</c> (per instance) or <c>Redis</c> (shared, over <c>ConnectionStrings:Redis</c>).
    /// Default (unset): <c>Redis</c> when <c>Cache:Mode</c> is <c>Redis</c>, else <c>Memory</c>.
    /// </summary>
    public RateLimitStore? Store { get; set; }
}

/// <summary>Where rate-limit counters live.</summary>
public enum RateLimitStore
{
    /// <summary>Each instance counts on its own.</summary>
    Memory,

    /// <summary>Counted in Redis, shared by every instance; per instance while Redis is unreachable.</summary>
    Redis,
}

/// <summary>Request size and time limits enforced by Kestrel and the request-timeout middleware (section <c>Limits</c>).</summary>
public sealed class LimitsOptions
{
    /// <summary>Configuration section name.</summary>
    public const string Section = "Limits";

    /// <summary>Largest request body in bytes; larger bodies get 413. Default 65536 (64 KiB).</summary>
    public long MaxRequestBodySize { get; set; } = 64 * 1024;

    /// <summary>Largest body of <c>POST /customers/import</c> in bytes (that route's own limit, above <see cref="MaxRequestBodySize"/>); larger bodies get 413. Default 33554432 (32 MiB).</summary>
    public long ImportMaxBytes { get; set; } = 32 * 1024 * 1024;

    /// <summary>Largest total size of the request headers in bytes. Default 16384 (16 KiB).</summary>
    public int MaxRequestHeadersTotalSize { get; set; } = 16 * 1024;

    /// <summary>Most request headers per request. Default 64.</summary>
    public int MaxRequestHeaderCount { get; set; } = 64;

    /// <summary>Time a client has to send all request headers. Default 10 seconds.</summary>
    public TimeSpan RequestHeadersTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Idle keep-alive time; keep it above the load balancer's idle timeout (ALB: 60 s). Default 75 seconds.</summary>
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(75);

    /// <summary>Time a request may take before its <c>RequestAborted</c> token fires and 504 is returned. Default 30 seconds; zero disables.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Slowest acceptable request body upload; slower clients are dropped (408).</summary>
    public DataRateOptions MinRequestBodyDataRate { get; set; } = new();
}

/// <summary>A minimum data rate with a grace period.</summary>
public sealed class DataRateOptions
{
    /// <summary>Minimum bytes per second once the grace period is over. Default 240; zero disables the check.</summary>
    public double BytesPerSecond { get; set; } = 240;

    /// <summary>Time before the rate is enforced; must exceed 1 second. Default 5 seconds.</summary>
    public TimeSpan GracePeriod { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary>Which reverse proxies are trusted for <c>X-Forwarded-For</c>/<c>X-Forwarded-Proto</c> (section <c>Network</c>).</summary>
public sealed class NetworkOptions
{
    /// <summary>Configuration section name.</summary>
    public const string Section = "Network";

    /// <summary>IP addresses of trusted proxies, e.g. <c>10.0.1.17</c>. Default none: forwarded headers are ignored.</summary>
    public IList<string> KnownProxies { get; } = new List<string>();

    /// <summary>CIDR ranges of trusted proxies, e.g. the ALB subnets <c>10.0.0.0/20</c>. Default none.</summary>
    public IList<string> KnownNetworks { get; } = new List<string>();

    /// <summary>How many proxy hops to unwind. Default 1 (one ALB).</summary>
    public int ForwardLimit { get; set; } = 1;

    /// <summary><c>Strict-Transport-Security</c> max-age sent on HTTPS responses. Default 365 days.</summary>
    public TimeSpan HstsMaxAge { get; set; } = TimeSpan.FromDays(365);
}

internal sealed class RateLimitOptionsValidator(IConfiguration configuration) : IValidateOptions<RateLimitOptions>
{
    public ValidateOptionsResult Validate(string? name, RateLimitOptions options)
    {
        var failures = new List<string>();
        if (options.Enabled && RateLimiting.EffectiveStore(options, configuration) == RateLimitStore.Redis)
        {
            if (string.IsNullOrWhiteSpace(configuration.GetConnectionString("Redis")))
            {
                failures.Add("RateLimit:Store is Redis but ConnectionStrings:Redis is empty: set it or choose RateLimit:Store Memory.");
            }

            // The Redis counters keep whole seconds.
            if (options.Window < TimeSpan.FromSeconds(1) || options.Window.Ticks % TimeSpan.TicksPerSecond != 0)
            {
                failures.Add("RateLimit:Window must be a whole number of seconds (at least 00:00:01) when rate limits are counted in Redis (RateLimit:Store Redis).");
            }
        }

        if (options.PermitLimit < 1)
        {
            failures.Add("RateLimit:PermitLimit must be at least 1 (set RateLimit:Enabled=false to turn rate limiting off).");
        }

        if (options.Window < TimeSpan.FromMilliseconds(100) || options.Window > TimeSpan.FromHours(1))
        {
            failures.Add("RateLimit:Window must be between 00:00:00.1 and 01:00:00.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

internal sealed class LimitsOptionsValidator : IValidateOptions<LimitsOptions>
{
    public ValidateOptionsResult Validate(string? name, LimitsOptions options)
    {
        var failures = new List<string>();
        if (options.MaxRequestBodySize < 1)
        {
            failures.Add("Limits:MaxRequestBodySize must be a positive number of bytes.");
        }

        if (options.ImportMaxBytes < 1)
        {
            failures.Add("Limits:ImportMaxBytes must be a positive number of bytes.");
        }

        if (options.MaxRequestHeadersTotalSize < 1024)
        {
            failures.Add("Limits:MaxRequestHeadersTotalSize must be at least 1024 bytes.");
        }

        if (options.MaxRequestHeaderCount < 8)
        {
            failures.Add("Limits:MaxRequestHeaderCount must be at least 8.");
        }

        if (options.RequestHeadersTimeout <= TimeSpan.Zero)
        {
            failures.Add("Limits:RequestHeadersTimeout must be positive.");
        }

        if (options.KeepAliveTimeout <= TimeSpan.Zero)
        {
            failures.Add("Limits:KeepAliveTimeout must be positive.");
        }

        if (options.RequestTimeout < TimeSpan.Zero)
        {
            failures.Add("Limits:RequestTimeout must be zero (off) or positive.");
        }

        if (options.MinRequestBodyDataRate.BytesPerSecond < 0)
        {
            failures.Add("Limits:MinRequestBodyDataRate:BytesPerSecond must be zero (off) or positive.");
        }
        else if (options.MinRequestBodyDataRate.BytesPerSecond > 0 && options.MinRequestBodyDataRate.GracePeriod <= TimeSpan.FromSeconds(1))
        {
            failures.Add("Limits:MinRequestBodyDataRate:GracePeriod must be longer than 1 second.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

internal sealed class NetworkOptionsValidator : IValidateOptions<NetworkOptions>
{
    public ValidateOptionsResult Validate(string? name, NetworkOptions options)
    {
        var failures = new List<string>();
        for (var i = 0; i < options.KnownProxies.Count; i++)
        {
            if (!System.Net.IPAddress.TryParse(options.KnownProxies[i], out _))
            {
                failures.Add($"Network:KnownProxies:{i} must be an IP address.");
            }
        }

        for (var i = 0; i < options.KnownNetworks.Count; i++)
        {
            if (!System.Net.IPNetwork.TryParse(options.KnownNetworks[i], out _))
            {
                failures.Add($"Network:KnownNetworks:{i} must be a CIDR range such as 10.0.0.0/16.");
            }
        }

        if (options.ForwardLimit < 1)
        {
            failures.Add("Network:ForwardLimit must be at least 1.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
