using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using CustomerRecords.Api.Customers;
using Microsoft.Extensions.Caching.Memory;
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
            sp.GetRequiredService<IOptions<CacheOptions>>().Value.RedisHardTimeout,
            sp.GetRequiredService<ILogger<RedisConnection>>()));
        builder.Services.AddSingleton<IFusionCache>(sp => CreateCache(sp, sp.GetRequiredService<IOptions<CacheOptions>>().Value));
        builder.Services.AddHealthChecks().AddCheck<CacheHealthCheck>("cache", tags: ["ready"]);
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
                    // Every entry counts 1 against Cache:MemoryMaxEntries.
                    Size = 1,
                    Duration = options.Duration,
                    JitterMaxDuration = options.Jitter,
                    MemoryCacheDuration = redis ? options.MemoryDuration : null,
                    IsFailSafeEnabled = options.FailSafe,

                    // FusionCache counts FailSafeMaxDuration from the write, and ignores it (with a
                    // warning on every write) when it is shorter than Duration; Cache:FailSafeMaxDuration
                    // is the time past expiry, so add the longest lifetime an entry can have.
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
            memoryCache: new MemoryCache(new MemoryCacheOptions { SizeLimit = options.MemoryMaxEntries }),
            logger: services.GetRequiredService<ILogger<FusionCache>>());

        if (redis)
        {
            var connection = services.GetRequiredService<RedisConnection>();
            var json = new JsonSerializerOptions(JsonSerializerDefaults.Web)
            {
                PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
                TypeInfoResolver = JsonTypeInfoResolver.Combine(CustomerJsonContext.Default, new DefaultJsonTypeInfoResolver()),

                // Value tuples keep their items in fields; without this FusionCache warns at every start
                // that tuples it serializes would lose data. The customer shape has no fields: unchanged.
                IncludeFields = true,
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
}
