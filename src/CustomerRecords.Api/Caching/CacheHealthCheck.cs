using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace CustomerRecords.Api.Caching;

/// <summary>
/// The shared cache down is "degraded", not "unready": the service still answers from the database. Redis mode
/// asks the Redis connection, Memcached mode whether the last operation (or the recovery's once-a-second probe)
/// on every memcached server succeeded. Without a shared cache there is nothing to check.
/// </summary>
internal sealed class CacheHealthCheck(IOptions<CacheOptions> options, IServiceProvider services) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(options.Value.Mode switch
        {
            CacheMode.Redis when !services.GetRequiredService<RedisConnection>().IsConnected =>
                HealthCheckResult.Degraded("Redis is unreachable; reads are served from memory and the database."),
            CacheMode.Memcached when !services.GetRequiredService<MemcachedClient>().IsAvailable =>
                HealthCheckResult.Degraded("memcached is unreachable; reads are served from memory and the database."),
            _ => HealthCheckResult.Healthy(),
        });
}
