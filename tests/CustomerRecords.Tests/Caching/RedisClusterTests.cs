using System.Diagnostics;
using System.Globalization;
using System.Net;
using CustomerRecords.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace CustomerRecords.Tests.Caching;

/// <summary>
/// The service on a real Redis Cluster (3 primaries, 3 replicas), <c>ConnectionStrings:Redis</c> listing the nodes as on
/// ElastiCache in cluster mode: the versioned L2, the backplane, the recovery and the shared rate limits, and a
/// primary's failover under traffic. Each test builds its own cluster; the database is a fresh one on the collection's MariaDB.
/// </summary>
[Collection(MariaDbRedisCollection.Name)]
public sealed class RedisClusterTests(MariaDbRedisFixture servers, ITestOutputHelper output)
{
    /// <summary>A backplane message reaches the other instance well within this (pub/sub crosses the cluster bus).</summary>
    private static readonly TimeSpan BackplaneBound = TimeSpan.FromSeconds(5);

    /// <summary>From a primary's SIGKILL to the service caching through its promoted replica: the 2 s node timeout, the election, the client's topology refresh and the recovery, with room for a busy machine.</summary>
    private static readonly TimeSpan FailoverBound = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task CrudWriteThroughBackplaneAndSharedRateLimitsWorkOnACluster()
    {
        await using var pair = await StartPairAsync(("RateLimit:Enabled", "true"), ("RateLimit:PermitLimit", "100000"), ("RateLimit:Window", "00:01:00"));
        var (cluster, settings, a, b, redis) = (pair.Cluster, pair.Settings, pair.A, pair.B, pair.Redis);

        // Create on A: written through to the cluster, so B's first read is a hit.
        var id = (int)(await a.CreateAsync())["id"]!;
        var key = Assert.Single(await KeysAsync(redis, "*" + a.RedisKey(id)));
        var first = await b.ReadAsync(id);
        Assert.Equal((HttpStatusCode.OK, "hit"), (first.Status, first.Cache));

        // Update on A: B (holding the old version in memory) sees the new one through the backplane.
        var email = Json.UniqueEmail("cluster");
        Assert.Equal(HttpStatusCode.OK, (await a.PatchEmailAsync(id, email)).StatusCode);
        await Eventually.WithinAsync(BackplaneBound, "B reads A's update", async () => (await b.ReadAsync(id)).Email == email);
        Assert.Equal(2, (await b.ReadAsync(id)).Version);
        Assert.Contains("\"ver\"", string.Join(",", (await redis.GetDatabase().HashKeysAsync(key)).Select(k => "\"" + k + "\"")), StringComparison.Ordinal);

        // Delete on A: B answers 404.
        Assert.Equal(HttpStatusCode.NoContent, (await a.Client.DeleteAsync(string.Create(CultureInfo.InvariantCulture, $"/customers/{id}"))).StatusCode);
        await Eventually.WithinAsync(BackplaneBound, "B answers 404 after A's delete", async () => (await b.ReadAsync(id)).Status == HttpStatusCode.NotFound);

        // The rate limiter counted in the cluster: its two keys per client exist and share one slot (the hash tag).
        var limiterKeys = await KeysAsync(redis, "rl:fw:{" + settings["Cache:KeyPrefix"] + "|*");
        output.WriteLine($"rate-limit keys: {string.Join(", ", limiterKeys)}");
        Assert.Equal(2, limiterKeys.Count);
        Assert.Single(limiterKeys.Select(k => redis.HashSlot(k)).Distinct());
    }

    [Fact]
    public async Task APrimaryKilledFailsOverToItsReplicaWithNo5xxAndTheServiceCachesFreshValuesAfterwards()
    {
        await using var pair = await StartPairAsync(("Cache:RepairDelay", "00:00:00.250"));
        var (cluster, settings, a, b, redis) = (pair.Cluster, pair.Settings, pair.A, pair.B, pair.Redis);

        var id = (int)(await a.CreateAsync())["id"]!;
        var key = Assert.Single(await KeysAsync(redis, "*" + a.RedisKey(id)));
        Assert.Equal("hit", (await b.ReadAsync(id)).Cache);
        var primary = await cluster.PrimaryOfAsync(key) ?? throw new InvalidOperationException("No primary serves the key.");
        var replica = await cluster.ReplicaOfAsync(primary);

        // Traffic through the failover: writes on A, reads on B; every answer must be a 200.
        var failures = new List<string>();
        var requests = 0;
        using var stop = new CancellationTokenSource();
        var traffic = Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                var email = Json.UniqueEmail("failover");
                using var write = await a.PatchEmailAsync(id, email);
                var read = await b.ReadAsync(id);
                lock (failures)
                {
                    requests += 2;
                    if (write.StatusCode != HttpStatusCode.OK || read.Status != HttpStatusCode.OK)
                    {
                        failures.Add($"write {(int)write.StatusCode}, read {(int)read.Status}");
                    }
                }

                await Task.Delay(20);
            }
        });

        await Task.Delay(500);
        var clock = Stopwatch.StartNew();
        await primary.KillAsync();
        // The node timeout (2 s) marks it failed, then its replica is elected and takes its slots over.
        await Eventually.WithinAsync(FailoverBound, "a live primary serves the key's slot", async () => await cluster.PrimaryOfAsync(key) is { } now && now != primary, TimeSpan.FromMilliseconds(100));
        await RedisClusterServer.WaitUntilOkAsync(cluster.Nodes.Where(n => n != primary));
        var clusterOk = clock.Elapsed;
        Assert.Same(replica, await cluster.PrimaryOfAsync(key)); // its own replica took the slot over

        // Recovered: a write on A is cached in Redis (on the new primary) and read fresh on B from the cache.
        await Eventually.WithinAsync(FailoverBound, "A's writes are cached again and B reads them", async () =>
        {
            var email = Json.UniqueEmail("after");
            using var write = await a.PatchEmailAsync(id, email);
            var cached = await redis.GetDatabase().HashGetAsync(key, "data");
            var read = await b.ReadAsync(id);
            return write.StatusCode == HttpStatusCode.OK && cached.HasValue && cached.ToString().Contains(email, StringComparison.Ordinal)
                && read.Email == email && read.Cache == "hit";
        }, TimeSpan.FromMilliseconds(200));
        var recovered = clock.Elapsed;
        await stop.CancelAsync();
        await traffic;

        // After the failover, no stale read: each write on A is what B reads (within the backplane's delivery).
        var lag = TimeSpan.Zero;
        for (var i = 0; i < 20; i++)
        {
            var email = Json.UniqueEmail("fresh");
            Assert.Equal(HttpStatusCode.OK, (await a.PatchEmailAsync(id, email)).StatusCode);
            var took = await Eventually.WithinAsync(BackplaneBound, "B reads A's write", async () => (await b.ReadAsync(id)).Email == email, TimeSpan.FromMilliseconds(10));
            lag = took > lag ? took : lag;
        }

        output.WriteLine($"primary {primary.Port} killed: cluster_state:ok after {clusterOk.TotalMilliseconds:0} ms, service caching fresh values again after {recovered.TotalMilliseconds:0} ms; " +
            $"{requests} requests during the failover, {failures.Count} not 200 ({string.Join("; ", failures.Take(5))}); after it, slowest B read of A's write {lag.TotalMilliseconds:0} ms");
        Assert.Empty(failures);
    }

    [Fact]
    public async Task MovingTheSlotsOfTheServicesKeysUnderTrafficCausesNo5xxNoStaleReadAndKeepsTheBackplaneAndTheSharedRateLimit()
    {
        await using var pair = await StartPairAsync(("RateLimit:Enabled", "true"), ("RateLimit:PermitLimit", "1000000"), ("RateLimit:Window", "01:00:00"));
        var (cluster, settings, a, b, redis) = (pair.Cluster, pair.Settings, pair.A, pair.B, pair.Redis);

        var id = (int)(await a.CreateAsync())["id"]!;
        var cacheKey = Assert.Single(await KeysAsync(redis, "*" + a.RedisKey(id)));
        Assert.Equal("hit", (await b.ReadAsync(id)).Cache);
        var limiterKey = Assert.Single(await KeysAsync(redis, "rl:fw:{" + settings["Cache:KeyPrefix"] + "|*"), k => !k.EndsWith(":exp", StringComparison.Ordinal));
        var slots = new[] { await cluster.SlotOfAsync(cacheKey), await cluster.SlotOfAsync(limiterKey) }.Distinct().ToList();

        // Traffic through the moves: patches on A, each followed by a read on A that must carry at least the acknowledged
        // version (the writer's read-your-writes); reads on B whose version must never go back. Every answer must be a 200.
        var failures = new List<string>();
        var requests = 0;
        var writes = 0;
        var slowestWrite = TimeSpan.Zero;
        var acknowledged = 1;
        using var stop = new CancellationTokenSource();
        var writer = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var clock = Stopwatch.StartNew();
                using var write = await a.PatchEmailAsync(id, Json.UniqueEmail("reshard"));
                var took = clock.Elapsed;
                var version = write.StatusCode == HttpStatusCode.OK ? (int)(await write.ReadObjectAsync())["version"]! : 0;
                if (version > 0)
                {
                    Volatile.Write(ref acknowledged, version);
                }

                var read = await a.ReadAsync(id);
                lock (failures)
                {
                    writes++;
                    slowestWrite = took > slowestWrite ? took : slowestWrite;
                }

                Record($"A patch {(int)write.StatusCode}, A read {(int)read.Status} v{read.Version} (acknowledged v{version})", write.StatusCode == HttpStatusCode.OK && read.Status == HttpStatusCode.OK && read.Version >= version, 2);
                await Task.Delay(10);
            }
        });
        var reader = Task.Run(async () =>
        {
            var seen = 0;
            while (!stop.IsCancellationRequested)
            {
                var newest = Volatile.Read(ref acknowledged);
                var read = await b.ReadAsync(id);
                Record($"B read {(int)read.Status} v{read.Version} after v{seen} (newest acknowledged v{newest})", read.Status == HttpStatusCode.OK && read.Version >= seen, 1);
                seen = Math.Max(seen, read.Version ?? 0);
                await Task.Delay(5);
            }
        });

        await TrafficAsync(5);
        var moves = new List<string>();
        var redirects = new List<(long Asked, long Moved)>();
        foreach (var slot in slots)
        {
            var clock = Stopwatch.StartNew();
            var (askedBefore, movedBefore) = await RedirectsAsync();
            var (from, to) = await cluster.MigrateSlotAsync(slot, () => TrafficAsync(5)); // writes answered while the source says ASK
            var migrated = clock.Elapsed;
            await TrafficAsync(5); // and after it says MOVED
            var (asked, moved) = await RedirectsAsync();
            redirects.Add((asked - askedBefore, moved - movedBefore));
            moves.Add($"slot {slot} {from.Port}->{to.Port} moved in {migrated.TotalMilliseconds:0} ms (ASK {asked - askedBefore}, MOVED {moved - movedBefore})");
            Assert.Same(to, await cluster.PrimaryOfAsync(slot == slots[0] ? cacheKey : limiterKey));
        }

        await stop.CancelAsync();
        await Task.WhenAll(writer, reader);
        output.WriteLine($"{string.Join("; ", moves)}; {requests} requests ({writes} patches, slowest {slowestWrite.TotalMilliseconds:0} ms) during the moves, {failures.Count} failed ({string.Join("; ", failures.Take(5))})");
        Assert.Empty(failures);
        // The clients were redirected both ways (a move during which the writer's cache writes were held back by the
        // cache's circuit breaker redirects only the rate limiter's commands, so this counts the moves together).
        Assert.True(redirects.Sum(r => r.Asked) > 0 && redirects.Sum(r => r.Moved) > 0, string.Join("; ", moves));

        // After the moves: each write on A is read on B (its memory holds the old version) within the backplane's delivery, never older.
        var lag = TimeSpan.Zero;
        for (var i = 0; i < 20; i++)
        {
            var email = Json.UniqueEmail("moved");
            Assert.Equal(HttpStatusCode.OK, (await a.PatchEmailAsync(id, email)).StatusCode);
            Assert.Equal(email, (await a.ReadAsync(id)).Email);
            var took = await Eventually.WithinAsync(BackplaneBound, "B reads A's write", async () => (await b.ReadAsync(id)).Email == email, TimeSpan.FromMilliseconds(10));
            lag = took > lag ? took : lag;
        }

        // The shared rate limiter counts on the slot's new primary: 10 requests, 5 per instance, add 10 to the one counter.
        var before = (long)await redis.GetDatabase().StringGetAsync(limiterKey);
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await a.ReadAsync(id)).Status);
            Assert.Equal(HttpStatusCode.OK, (await b.ReadAsync(id)).Status);
        }

        var after = (long)await redis.GetDatabase().StringGetAsync(limiterKey);
        output.WriteLine($"after the moves: slowest B read of A's write {lag.TotalMilliseconds:0} ms; rate-limit counter {before} -> {after}");
        Assert.Equal(10, after - before);

        async Task<(long Asked, long Moved)> RedirectsAsync()
        {
            long asked = 0, moved = 0;
            foreach (var node in cluster.Nodes)
            {
                asked += await RedisClusterServer.ErrorCountAsync(node, "ASK");
                moved += await RedisClusterServer.ErrorCountAsync(node, "MOVED");
            }

            return (asked, moved);
        }

        void Record(string what, bool ok, int count)
        {
            lock (failures)
            {
                requests += count;
                if (!ok)
                {
                    failures.Add(what);
                }
            }
        }

        // Waits for the writer to complete more patches (each also a read on A; B reads meanwhile).
        async Task TrafficAsync(int more)
        {
            int Count()
            {
                lock (failures)
                {
                    return writes;
                }
            }

            var target = Count() + more;
            await Eventually.WithinAsync(TimeSpan.FromSeconds(60), $"{more} more patches", () => Task.FromResult(Count() >= target || writer.IsCompleted || reader.IsCompleted), TimeSpan.FromMilliseconds(20));
        }
    }

    /// <summary>A new cluster, two instances over it and a fresh database, and a client of the cluster, once both instances use it.</summary>
    private async Task<ClusterPair> StartPairAsync(params (string Key, string Value)[] overrides)
    {
        var cluster = await RedisClusterServer.StartAsync();
        var settings = CacheInstance.RedisSettings(await servers.CreateDatabaseAsync(), cluster.ConnectionString, overrides);
        var pair = new ClusterPair(cluster, settings, CacheInstance.Start(settings), CacheInstance.Start(settings), await ConnectionMultiplexer.ConnectAsync(cluster.ConnectionString));
        await Eventually.WithinAsync(TimeSpan.FromSeconds(10), "both instances use the cluster", async () => await CacheHealthAsync(pair.A) == "Healthy" && await CacheHealthAsync(pair.B) == "Healthy");
        return pair;
    }

    private sealed record ClusterPair(RedisClusterServer Cluster, Dictionary<string, string?> Settings, CacheInstance A, CacheInstance B, ConnectionMultiplexer Redis) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Redis.DisposeAsync();
            await B.DisposeAsync();
            await A.DisposeAsync();
            await Cluster.DisposeAsync();
        }
    }

    /// <summary>Keys matching <paramref name="pattern"/> on every primary of the cluster.</summary>
    private static async Task<List<string>> KeysAsync(ConnectionMultiplexer redis, string pattern)
    {
        var keys = new List<string>();
        foreach (var server in redis.GetServers().Where(s => s.IsConnected && !s.IsReplica))
        {
            await foreach (var found in server.KeysAsync(pattern: pattern))
            {
                keys.Add(found.ToString());
            }
        }

        return keys;
    }

    private static async Task<string?> CacheHealthAsync(CacheInstance app)
    {
        using var response = await app.Client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.ReadObjectAsync();
        return (string?)body["checks"]?["cache"]?["status"];
    }
}
