using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using CustomerRecords.Api.Customers;
using Microsoft.Extensions.Caching.StackExchangeRedis;
using Microsoft.Extensions.Options;
using ZiggyCreatures.Caching.Fusion;
using ZiggyCreatures.Caching.Fusion.Backplane.StackExchangeRedis;
using ZiggyCreatures.Caching.Fusion.Serialization.SystemTextJson;

namespace CustomerRecords.Api.Caching;

internal static class CachingExtensions
{
    public static WebApplicationBuilder AddCaching(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<CacheOptions>()
            .BindConfiguration(CacheOptions.Section)
            .ValidateDataAnnotations()
            .Validate(o => o.Mode != CacheMode.Redis || !string.IsNullOrWhiteSpace(builder.Configuration.GetConnectionString("Redis")),
                "Cache:Mode is Redis but ConnectionStrings:Redis is empty: set it (host:port[,ssl=true,password=...]) or choose Cache:Mode Memory.")
            .ValidateOnStart();
        builder.Services.AddSingleton<CacheMetrics>();
        builder.Services.AddSingleton<CustomerCache>();
        builder.Services.AddHostedService<CacheRepairService>();

        // Registered whatever the mode; CustomerCache resolves it only when caching is on. The mode is
        // read when the cache is first built, so settings layered on after this call still count.
        builder.Services.AddSingleton(sp => new RedisConnection(
            sp.GetRequiredService<IConfiguration>().GetConnectionString("Redis") ?? string.Empty,
            sp.GetRequiredService<ILogger<RedisConnection>>()));
        builder.Services.AddSingleton<IFusionCache>(sp => CreateCache(sp, sp.GetRequiredService<IOptions<CacheOptions>>().Value));
        builder.Services.AddHealthChecks().Add(new Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckRegistration(
            "cache",
            sp => sp.GetRequiredService<IOptions<CacheOptions>>().Value.Mode == CacheMode.Redis
                ? new RedisHealthCheck(sp.GetRequiredService<RedisConnection>())
                : new AlwaysHealthy(),
            failureStatus: null,
            tags: ["ready"]));
        return builder;
    }

    private static FusionCache CreateCache(IServiceProvider services, CacheOptions options)
    {
        var redis = options.Mode == CacheMode.Redis;
        var cache = new FusionCache(
            new FusionCacheOptions
            {
                CacheName = "customers",
                CacheKeyPrefix = $"{options.KeyPrefix}:v{CustomerCache.SchemaVersion}:",
                BackplaneChannelPrefix = options.KeyPrefix,
                DefaultEntryOptions = new FusionCacheEntryOptions
                {
                    Duration = options.Duration,
                    JitterMaxDuration = options.Jitter,
                    MemoryCacheDuration = redis ? options.MemoryDuration : null,
                    IsFailSafeEnabled = options.FailSafe,

                    // FusionCache's FailSafeMaxDuration is an entry's whole life, fresh and then stale;
                    // ours is the time past expiry (see CacheOptions). Left lower than Duration, it is
                    // ignored, and FusionCache logs a warning on every cache write.
                    FailSafeMaxDuration = options.Duration + options.Jitter + options.FailSafeMaxDuration,
                    FailSafeThrottleDuration = TimeSpan.FromSeconds(5),
                    DistributedCacheSoftTimeout = options.RedisSoftTimeout,
                    DistributedCacheHardTimeout = options.RedisHardTimeout,

                    // A write returns only after Redis and the backplane have it, so another
                    // instance read right after the response cannot miss the notification.
                    AllowBackgroundDistributedCacheOperations = false,
                    AllowBackgroundBackplaneOperations = false,
                },

                // While Redis is down, stop trying it on every request; FusionCache re-syncs when it returns.
                DistributedCacheCircuitBreakerDuration = TimeSpan.FromSeconds(2),
                BackplaneCircuitBreakerDuration = TimeSpan.FromSeconds(2),
                EnableAutoRecovery = true,

                // Outages are logged once by RedisConnection; per-operation errors would flood the log.
                DistributedCacheErrorsLogLevel = LogLevel.Debug,
                BackplaneErrorsLogLevel = LogLevel.Debug,
                DistributedCacheSyntheticTimeoutsLogLevel = LogLevel.Debug,
                BackplaneSyntheticTimeoutsLogLevel = LogLevel.Debug,
                FailSafeActivationLogLevel = LogLevel.Information,
                MissingCacheKeyPrefixWarningLogLevel = LogLevel.Debug,
            },
            logger: services.GetRequiredService<ILogger<FusionCache>>());

        if (redis)
        {
            var connection = services.GetRequiredService<RedisConnection>();
            var json = new JsonSerializerOptions(JsonSerializerDefaults.Web)
            {
                PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
                TypeInfoResolver = JsonTypeInfoResolver.Combine(CustomerJsonContext.Default, new DefaultJsonTypeInfoResolver()),
            };
            cache.SetupSerializer(new FusionCacheSystemTextJsonSerializer(json));
            cache.SetupDistributedCache(new RedisCache(Options.Create(new RedisCacheOptions
            {
                ConnectionMultiplexerFactory = connection.GetAsync,
            })));
            cache.SetupBackplane(new RedisBackplane(
                Options.Create(new RedisBackplaneOptions { ConnectionMultiplexerFactory = connection.GetAsync }),
                services.GetRequiredService<ILogger<RedisBackplane>>()));
        }

        return cache;
    }

    private sealed class AlwaysHealthy : Microsoft.Extensions.Diagnostics.HealthChecks.IHealthCheck
    {
        public Task<Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult> CheckHealthAsync(
            Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult.Healthy());
    }
}
