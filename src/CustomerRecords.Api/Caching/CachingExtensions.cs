using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.Options;
using ZiggyCreatures.Caching.Fusion;
using ZiggyCreatures.Caching.Fusion.Backplane.StackExchangeRedis;
using ZiggyCreatures.Caching.Fusion.Serialization.SystemTextJson;

namespace CustomerRecords.Api.Caching;

/// <summary>The JSON metadata of the types features cache in Redis; each feature adds its own source-generated context.</summary>
internal sealed class CacheJsonOptions
{
    public IList<IJsonTypeInfoResolver> TypeInfoResolvers { get; } = [];
}

internal static class CachingExtensions
{
    /// <summary>How long FusionCache stops trying the shared cache (and the backplane) after an error.</summary>
    internal static readonly TimeSpan CircuitBreakerDuration = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Registers the service's one <see cref="IFusionCache"/>, built by FusionCache's own builder: memory (L1)
    /// always, and in <see cref="CacheMode.Redis"/> a Redis L2 and a Redis backplane over one shared connection,
    /// in <see cref="CacheMode.Memcached"/> a memcached L2 (<see cref="MemcachedDistributedCache"/>) and no backplane.
    /// Features decide from <see cref="CacheOptions.Mode"/> whether to use it at all (<see cref="CacheMode.None"/>).
    /// </summary>
    public static WebApplicationBuilder AddCaching(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<CacheOptions>()
            .BindConfiguration(CacheOptions.Section)
            .ValidateDataAnnotations()
            .Validate(o => o.Mode != CacheMode.Redis || !string.IsNullOrWhiteSpace(builder.Configuration.GetConnectionString("Redis")),
                "Cache:Mode is Redis but ConnectionStrings:Redis is empty: set it (host:port[,ssl=true,password=...]) or choose Cache:Mode Memory.")
            .Validate(o => o.Mode != CacheMode.Memcached || !string.IsNullOrWhiteSpace(builder.Configuration.GetConnectionString("Memcached")),
                "Cache:Mode is Memcached but ConnectionStrings:Memcached is empty: set it (host:port[,host:port...]) or choose Cache:Mode Memory.")
            .Validate(o => o.Mode != CacheMode.Memcached || string.IsNullOrWhiteSpace(builder.Configuration.GetConnectionString("Memcached"))
                    || MemcachedClient.TryParseServers(builder.Configuration.GetConnectionString("Memcached"), out _, out _),
                "ConnectionStrings:Memcached is not a list of memcached servers: expected host:port[,host:port...] (port 11211 when left out).")
            // The old name is FusionCache's name for an entry's whole lifetime, not the time past expiry: refuse it, never guess.
            .Validate(o => string.IsNullOrEmpty(o.RedisCaFile) || File.Exists(o.RedisCaFile),
                "Cache:RedisCaFile names no readable file: set it to the PEM certificate of the CA that signs Redis's TLS certificate, or leave it empty.")
            .Validate(_ => builder.Configuration[$"{CacheOptions.Section}:FailSafeMaxDuration"] is null,
                "Cache:FailSafeMaxDuration was renamed Cache:FailSafeGracePeriod (how long past its expiry a cached value may be served while the database fails): rename the setting.")
            .ValidateOnStart();
        builder.Services.AddOptions<RedisIamAuthenticationOptions>().BindConfiguration(RedisIamAuthenticationOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<RedisIamAuthenticationOptions>, RedisIamAuthenticationOptionsValidator>();
        builder.Services.AddOptions<CacheJsonOptions>();
        builder.Services.AddSingleton<CacheMemory>();
        builder.Services.AddSingleton<CacheWriteRejections>();
        builder.Services.AddSingleton<SharedCacheRecovery>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<SharedCacheRecovery>());
        builder.Services.AddCacheFlush();

        // The mode is read when the cache is first built (not now), so settings layered on after this call still count.
        builder.Services.AddSingleton(sp => new RedisConnection(
            sp.GetRequiredService<IConfiguration>().GetConnectionString("Redis") ?? string.Empty,
            Settings(sp).RedisHardTimeout,
            sp.GetRequiredService<ILogger<RedisConnection>>(),
            IamTokens(sp),
            Settings(sp).RedisCaFile));

        builder.Services.AddSingleton(sp =>
        {
            var settings = Settings(sp);
            return MemcachedClient.TryParseServers(sp.GetRequiredService<IConfiguration>().GetConnectionString("Memcached"), out var servers, out var error)
                ? new MemcachedClient(servers, settings.MemcachedPoolSize, settings.RedisHardTimeout, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<MemcachedClient>>())
                : throw new InvalidOperationException(error);
        });

        var cache = builder.Services.AddFusionCache()
            .WithOptions((sp, options) => Configure(options, Settings(sp)))
            .WithRegisteredLogger()
            .WithMemoryCache(sp => sp.GetRequiredService<CacheMemory>().Cache)
            .WithSerializer(sp => Shared(sp) ? CreateSerializer(sp) : null!)
            .WithDistributedCache(sp => Settings(sp).Mode switch
            {
                CacheMode.Redis => CreateRedisCache(sp),
                CacheMode.Memcached => ActivatorUtilities.CreateInstance<MemcachedDistributedCache>(sp),
                _ => null!,
            })

            // memcached has no publish/subscribe: no backplane in that mode (memory copies expire after Cache:MemoryDuration).
            .WithBackplane(sp => Settings(sp).Mode == CacheMode.Redis ? CreateBackplane(sp) : null!);

        // Outside Redis and Memcached modes the factories above decline (return null): a memory-only cache, not a start-up error.
        cache.ThrowIfMissingSerializer = false;
        cache.ThrowIfMissingDistributedCache = false;
        cache.ThrowIfMissingBackplane = false;

        builder.Services.AddHealthChecks().AddCheck<CacheHealthCheck>("cache", tags: ["ready"]);
        return builder;
    }

    private static RedisIamTokens? IamTokens(IServiceProvider services)
    {
        var iam = services.GetRequiredService<IOptions<RedisIamAuthenticationOptions>>().Value;
        if (!iam.Enabled)
        {
            return null;
        }

        var time = services.GetService<TimeProvider>() ?? TimeProvider.System;
        var credentials = services.GetService<Aws.AwsCredentialsProvider>() ?? new Aws.AwsCredentialsProvider(
            Aws.AwsCredentialsProvider.CreateImdsHandler(), time: time, logger: services.GetRequiredService<ILoggerFactory>().CreateLogger<Aws.AwsCredentialsProvider>());
        return new RedisIamTokens(iam, credentials, time);
    }

    private static CacheOptions Settings(IServiceProvider services) => services.GetRequiredService<IOptions<CacheOptions>>().Value;

    /// <summary>A shared second level (Redis or memcached) is in use.</summary>
    private static bool Shared(IServiceProvider services) => Settings(services).Mode is CacheMode.Redis or CacheMode.Memcached;

    private static void Configure(FusionCacheOptions options, CacheOptions settings)
    {
        var redis = settings.Mode is CacheMode.Redis or CacheMode.Memcached;

        // FusionCache adds the jitter to the memory copy of a value set on this instance (a write-through), on top
        // of MemoryCacheDuration: with a shared level an instance would then serve its own older write for up to
        // Cache:MemoryDuration + Cache:Jitter after another instance's newer one (always in Memcached mode, which has
        // no backplane; during a backplane outage in Redis mode). There the memory copy lives Cache:MemoryDuration, no more.
        var jitter = redis ? TimeSpan.Zero : settings.Jitter;
        options.CacheKeyPrefix = settings.KeyPrefix + ":";
        options.BackplaneChannelPrefix = settings.KeyPrefix;
        options.DefaultEntryOptions = new FusionCacheEntryOptions
        {
            // Every entry counts 1 against Cache:MemoryMaxEntries.
            Size = 1,
            Duration = settings.Duration,
            JitterMaxDuration = jitter,
            MemoryCacheDuration = redis ? settings.MemoryDuration : null,
            IsFailSafeEnabled = settings.FailSafe,

            // FusionCache counts FailSafeMaxDuration from the write, and ignores it (with a warning on every
            // write) when it is shorter than Duration; Cache:FailSafeGracePeriod is the time past expiry, so
            // add the longest lifetime an entry can have.
            FailSafeMaxDuration = settings.Duration + jitter + settings.FailSafeGracePeriod,
            FailSafeThrottleDuration = TimeSpan.FromSeconds(5),
            DistributedCacheSoftTimeout = settings.RedisSoftTimeout,
            DistributedCacheHardTimeout = settings.RedisHardTimeout,

            // A write returns only after Redis and the backplane have it, so another instance read right
            // after the response cannot miss the notification.
            AllowBackgroundDistributedCacheOperations = false,
            AllowBackgroundBackplaneOperations = false,
        };

        // While Redis is down, stop trying it on every request. FusionCache's auto-recovery replays the values of
        // the time, which may be older than a later write: SharedCacheRecovery re-reads the database instead.
        options.DistributedCacheCircuitBreakerDuration = CircuitBreakerDuration;
        options.BackplaneCircuitBreakerDuration = CircuitBreakerDuration;
        options.EnableAutoRecovery = false;

        // Outages are logged once by RedisConnection; per-operation errors would flood the log.
        options.DistributedCacheErrorsLogLevel = LogLevel.Debug;
        options.BackplaneErrorsLogLevel = LogLevel.Debug;
        options.DistributedCacheSyntheticTimeoutsLogLevel = LogLevel.Debug;
        options.BackplaneSyntheticTimeoutsLogLevel = LogLevel.Debug;
        options.FailSafeActivationLogLevel = LogLevel.Information;
        options.MissingCacheKeyPrefixWarningLogLevel = LogLevel.Debug;
    }

    private static FusionCacheSystemTextJsonSerializer CreateSerializer(IServiceProvider services)
    {
        var resolvers = services.GetRequiredService<IOptions<CacheJsonOptions>>().Value.TypeInfoResolvers;
        return new FusionCacheSystemTextJsonSerializer(new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            TypeInfoResolver = JsonTypeInfoResolver.Combine([.. resolvers, new DefaultJsonTypeInfoResolver()]),

            // Value tuples keep their items in fields; without this FusionCache warns at every start that
            // tuples it serializes would lose data. The cached shapes have no fields: unchanged.
            IncludeFields = true,
        });
    }

    private static VersionedRedisCache CreateRedisCache(IServiceProvider services) => ActivatorUtilities.CreateInstance<VersionedRedisCache>(services);

    private static RedisBackplane CreateBackplane(IServiceProvider services) => new(
        Options.Create(new RedisBackplaneOptions { ConnectionMultiplexerFactory = services.GetRequiredService<RedisConnection>().GetAsync }),
        services.GetRequiredService<ILogger<RedisBackplane>>());
}
