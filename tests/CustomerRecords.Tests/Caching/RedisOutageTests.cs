using System.Diagnostics;
using System.Globalization;
using System.Net;
using CustomerRecords.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace CustomerRecords.Tests.Caching;

/// <summary>
/// Redis going away is not an outage (README "Caching"). Each test breaks its own Redis server
/// (SIGKILL and a restart on the same port, empty since nothing is persisted; or SIGSTOP); the
/// database is a fresh one on the collection's shared MariaDB, which stays up.
/// </summary>
[Collection(MariaDbRedisCollection.Name)]
public sealed class RedisOutageTests(MariaDbRedisFixture servers, ITestOutputHelper output)
{
    /// <summary>
    /// No request waits long on a dead Redis. README: Redis calls are bounded by
    /// Cache:RedisHardTimeout (500 ms) and the database answers in milliseconds here, so 2 s is
    /// four times the promise, room for a busy machine. (Before Redis commands were set to fail
    /// fast, a miss queued its Redis commands for the client's 2 s timeout and took 2.5-3.5 s.)
    /// </summary>
    private static readonly TimeSpan SlowestRequest = TimeSpan.FromSeconds(2);

    /// <summary>
    /// From the restart to the cache being used again: the client's reconnect back-off plus
    /// FusionCache's 2 s circuit breaker, with room for a busy machine. The measured time is printed.
    /// </summary>
    private static readonly TimeSpan ReconnectBound = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task WithRedisKilledRequestsAreServedFromMemoryAndTheDatabaseAndAfterItsRestartTheCacheFillsAgain()
    {
        await using var redis = await RedisServer.StartAsync();
        var customers = await servers.CreateDatabaseAsync();

        // Short repair delay: the repairs of the writes made during the outage are done before the
        // query-counting step at the end (both instances share the database the counter watches).
        var settings = CacheInstance.RedisSettings(customers, redis.ConnectionString, ("Cache:RepairDelay", "00:00:00.250"));
        await using var a = CacheInstance.Start(settings);
        await using var b = CacheInstance.Start(settings);
        using var queries = new DbQueryCounter(customers);

        await Eventually.WithinAsync(TimeSpan.FromSeconds(5), "A reports the cache Healthy", async () => await CacheHealthAsync(a) == "Healthy");
        var created = await a.CreateAsync();
        var id = (int)created["id"]!;
        Assert.Equal("hit", (await a.ReadAsync(id)).Cache);
        await b.ReadAsync(id);
        Assert.Equal("hit", (await b.ReadAsync(id)).Cache); // B holds version 1 in its memory
        var uncached = (await CustomerRows.InsertAsync(customers, 1))[0];
        await using (var before = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString))
        {
            Assert.Single(await RedisKeysAsync(before, a.RedisKey(id))); // the shared cache is in use before the outage
        }

        await redis.KillAsync();
        var noticed = await Eventually.WithinAsync(TimeSpan.FromSeconds(5), "A reports the cache Degraded", async () => await CacheHealthAsync(a) == "Degraded");
        output.WriteLine($"Redis killed: /health/ready said Degraded (200) after {noticed.TotalMilliseconds:0} ms");

        var email = Json.UniqueEmail("outage");
        var timings = new List<(string What, TimeSpan Took)>();
        async Task<T> TimedAsync<T>(string what, Func<Task<T>> request)
        {
            var clock = Stopwatch.StartNew();
            var result = await request();
            timings.Add((what, clock.Elapsed));
            return result;
        }

        var hit = await TimedAsync("GET cached", () => a.ReadAsync(id));
        var miss = await TimedAsync("GET uncached", () => a.ReadAsync(uncached));
        var create = await TimedAsync("POST", () => a.Client.PostAsync("/customers", Json.Body(new { name = "During Outage", email = Json.UniqueEmail("outage") })));
        var patch = await TimedAsync("PATCH", () => a.PatchEmailAsync(id, email));
        var createdDuring = (int)(await create.ReadObjectAsync())["id"]!;
        var update = await TimedAsync("PUT /update", () => a.Client.PutAsync($"/update/{createdDuring}", Json.Body(new { email = Json.UniqueEmail("outage") })));
        var afterPatch = await TimedAsync("GET after PATCH", () => a.ReadAsync(id));
        var secondMiss = await TimedAsync("GET uncached on B", () => b.ReadAsync(uncached));
        output.WriteLine("while Redis is down: " + string.Join(", ", timings.Select(t => string.Create(CultureInfo.InvariantCulture, $"{t.What} {t.Took.TotalMilliseconds:0} ms"))));

        Assert.Equal((HttpStatusCode.OK, "hit"), (hit.Status, hit.Cache));
        Assert.Equal((HttpStatusCode.OK, "miss"), (miss.Status, miss.Cache));
        Assert.Equal(HttpStatusCode.Created, create.StatusCode);
        Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
        Assert.Equal(HttpStatusCode.OK, update.StatusCode);
        Assert.Equal((HttpStatusCode.OK, email), (afterPatch.Status, afterPatch.Email)); // the writing instance reads its write
        Assert.Equal(HttpStatusCode.OK, secondMiss.Status);
        Assert.All(timings, t => Assert.True(t.Took < SlowestRequest, $"{t.What} took {t.Took.TotalMilliseconds:0} ms with Redis down"));

        await redis.StartAgainAsync();
        var restarted = Stopwatch.StartNew();
        await Eventually.WithinAsync(ReconnectBound, "A reports the cache Healthy again", async () => await CacheHealthAsync(a) == "Healthy", TimeSpan.FromMilliseconds(50));
        var healthy = restarted.Elapsed;

        // The cache fills again: a miss on A is stored in Redis, and B, which never read that
        // customer, answers it from Redis: a hit without a database query. A fresh row per attempt,
        // so that B's answer can only come from Redis or the database, never from its memory.
        await using var direct = await ConnectionMultiplexer.ConnectAsync($"{redis.ConnectionString},abortConnect=false");
        await Eventually.WithinAsync(ReconnectBound - restarted.Elapsed, "a miss on A is stored in Redis and B reads it from there", async () =>
        {
            var fresh = (await CustomerRows.InsertAsync(customers, 1))[0];
            await a.ReadAsync(fresh);
            if (await RedisKeysAsync(direct, a.RedisKey(fresh)) is not [_])
            {
                return false;
            }

            queries.Take();
            var fromRedis = await b.ReadAsync(fresh);
            return fromRedis is { Status: HttpStatusCode.OK, Cache: "hit" } && queries.Take().Count == 0;
        }, TimeSpan.FromMilliseconds(100));
        var filling = restarted.Elapsed;
        output.WriteLine($"Redis restarted: A Healthy after {healthy.TotalMilliseconds:0} ms; A stores in and B reads from Redis again after {filling.TotalMilliseconds:0} ms");

        // README: "FusionCache re-publishes missed notifications when Redis returns". B still holds
        // the row from before the outage; A's PATCH during the outage could not reach it.
        // FusionCache waits 5 s (AutoRecoveryDelay) after reconnecting before it re-publishes, so
        // that every instance has resubscribed; the bound doubles that for a busy machine.
        var caughtUp = await Eventually.WithinAsync(TimeSpan.FromSeconds(10), "B serves A's outage-time write", async () => (await b.ReadAsync(id)).Email == email, TimeSpan.FromMilliseconds(50));
        output.WriteLine($"B served A's outage-time write {(filling + caughtUp).TotalMilliseconds:0} ms after the restart");
    }

    [Fact]
    public async Task WithRedisHungNoRequestIsHeldForLongAndEveryRequestSucceeds()
    {
        // SIGSTOP: the connection stays open but nothing answers, so only timeouts help (a dead
        // Redis is noticed at once). Each step of a miss (Redis read, Redis write, backplane
        // publish) may wait Cache:RedisHardTimeout (500 ms), and the client checks its timeouts
        // about once a second: measured worst 1.0-1.7 s (before the client's command timeout was
        // capped at the hard timeout: 2.6-3.5 s, again each time the circuit breaker let a probe
        // through). The bound leaves room for a busy machine.
        var bound = TimeSpan.FromSeconds(5);
        await using var redis = await RedisServer.StartAsync();
        var customers = await servers.CreateDatabaseAsync();
        await using var app = CacheInstance.Start(CacheInstance.RedisSettings(customers, redis.ConnectionString));
        var id = (int)(await app.CreateAsync())["id"]!;
        var uncached = await CustomerRows.InsertAsync(customers, 12);

        var timings = new List<TimeSpan>();
        redis.Pause();
        try
        {
            foreach (var other in uncached)
            {
                var read = await app.ReadAsync(other);
                Assert.Equal(HttpStatusCode.OK, read.Status);
                var clock = Stopwatch.StartNew();
                Assert.Equal(HttpStatusCode.OK, (await app.PatchEmailAsync(id, Json.UniqueEmail("hung"))).StatusCode);
                timings.Add(read.Elapsed);
                timings.Add(clock.Elapsed);
                await Task.Delay(200);
            }
        }
        finally
        {
            redis.Resume();
        }

        output.WriteLine("Redis hung, miss/PATCH pairs (ms): " + string.Join(" ", timings.Select(t => t.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture))));
        Assert.All(timings, t => Assert.True(t < bound, $"a request took {t.TotalMilliseconds:0} ms with Redis hung"));
    }

    /// <summary>
    /// Keys in Redis that end with <paramref name="key"/>: FusionCache puts its wire-format version
    /// in front of the service's key.
    /// </summary>
    private static async Task<List<string>> RedisKeysAsync(ConnectionMultiplexer redis, string key)
    {
        var keys = new List<string>();
        await foreach (var found in redis.GetServers()[0].KeysAsync(pattern: "*" + key))
        {
            keys.Add(found.ToString());
        }

        return keys;
    }

    /// <summary><c>checks.cache.status</c> of <c>/health/ready</c>, which must answer 200 whatever Redis does.</summary>
    private static async Task<string?> CacheHealthAsync(CacheInstance app)
    {
        using var response = await app.Client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.ReadObjectAsync();
        return (string?)body["checks"]?["cache"]?["status"];
    }
}
