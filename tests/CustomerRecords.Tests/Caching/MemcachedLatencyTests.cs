using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using CustomerRecords.Api.Caching;
using CustomerRecords.Tests.Infrastructure;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace CustomerRecords.Tests.Caching;

/// <summary>
/// Get/set latency of memcached and Redis on loopback, printed, never asserted (speed is not a test's business):
/// a small bounded loop of sequential operations, the raw commands and the versioned second levels the service
/// uses (<see cref="MemcachedDistributedCache"/>: gets + cas; <see cref="VersionedRedisCache"/>: one Lua script).
/// What is asserted is only that every read returned what was written.
/// </summary>
[Collection(MariaDbRedisCollection.Name)]
public sealed class MemcachedLatencyTests(MariaDbRedisFixture servers, ITestOutputHelper output)
{
    private const int Operations = 2000;

    [Fact]
    public async Task GetAndSetLatencyOfMemcachedAndRedisOnLoopbackIsMeasured()
    {
        await using var memcached = await MemcachedServer.StartAsync();
        await using var client = new MemcachedClient([new DnsEndPoint(memcached.Host, memcached.Port)], 16, TimeSpan.FromSeconds(2), TimeProvider.System, NullLogger<MemcachedClient>.Instance);
        await using var redis = await ConnectionMultiplexer.ConnectAsync(servers.Redis.ConnectionString);
        var database = redis.GetDatabase();
        var prefix = "latency-" + Guid.NewGuid().ToString("N");

        // A customer-sized FusionCache entry (about 600 bytes).
        byte[] Entry(int version) => Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture,
            $"{{\"value\":{{\"version\":{version},\"customer\":{{\"id\":1,\"name\":\"{new string('n', 200)}\",\"email\":\"{new string('e', 200)}@example.com\",\"version\":{version}}}}},\"timestamp\":1}}"));

        var options = new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(5) };
        var memcachedL2 = new MemcachedDistributedCache(client, new CacheWriteRejections(), NullLogger<MemcachedDistributedCache>.Instance);
        await using var redisConnection = new RedisConnection(servers.Redis.ConnectionString, TimeSpan.FromSeconds(2), NullLogger<RedisConnection>.Instance);
        using var services = new ServiceCollection().BuildServiceProvider();
        using var recovery = new SharedCacheRecovery(services, Options.Create(new CacheOptions()), TimeProvider.System, NullLogger<SharedCacheRecovery>.Instance);
        var redisL2 = new VersionedRedisCache(redisConnection, new CacheWriteRejections(), recovery);

        var rows = new List<string>();
        async Task MeasureAsync(string what, Func<int, Task> operation)
        {
            for (var i = 0; i < 200; i++)
            {
                await operation(i); // warm-up: connections, scripts, JIT
            }

            var samples = new double[Operations];
            for (var i = 0; i < Operations; i++)
            {
                var clock = Stopwatch.GetTimestamp();
                await operation(i);
                samples[i] = Stopwatch.GetElapsedTime(clock).TotalMicroseconds;
            }

            Array.Sort(samples);
            rows.Add(string.Create(CultureInfo.InvariantCulture, $"{what,-34} p50 {samples[Operations / 2],6:0} us   p99 {samples[Operations * 99 / 100],6:0} us"));
        }

        var value = Entry(1);
        await MeasureAsync("memcached set (raw)", i => client.SetAsync($"{prefix}:{i}", 0, TimeSpan.FromMinutes(5), value));
        await MeasureAsync("redis SET (raw)", i => database.StringSetAsync($"{prefix}:{i}", value, TimeSpan.FromMinutes(5)));
        await MeasureAsync("memcached get (raw)", async i => Assert.Equal(value, (await client.GetsAsync($"{prefix}:{i}"))!.Value));
        await MeasureAsync("redis GET (raw)", async i => Assert.Equal(value, (byte[])(await database.StringGetAsync($"{prefix}:{i}"))!));

        // The versioned second levels: every set a newer version of the same few keys (the common write-through).
        var version = 1;
        await MeasureAsync("memcached L2 set (gets + cas)", i => memcachedL2.SetAsync($"{prefix}:l2:{i % 50}", Entry(++version), options));
        await MeasureAsync("redis L2 set (Lua compare-and-set)", i => redisL2.SetAsync($"{prefix}:l2:{i % 50}", Entry(++version), options));
        await MeasureAsync("memcached L2 get", async i => Assert.NotNull(await memcachedL2.GetAsync($"{prefix}:l2:{i % 50}")));
        await MeasureAsync("redis L2 get (HGET)", async i => Assert.NotNull(await redisL2.GetAsync($"{prefix}:l2:{i % 50}")));

        output.WriteLine($"{Operations} sequential operations each on loopback, ~600-byte values, after 200 warm-up operations (a shared 2-core machine: compare, don't quote):");
        foreach (var row in rows)
        {
            output.WriteLine(row);
        }
    }
}
