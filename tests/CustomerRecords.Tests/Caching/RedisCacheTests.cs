using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using CustomerRecords.Tests.Infrastructure;
using Xunit.Abstractions;

namespace CustomerRecords.Tests.Caching;

/// <summary>
/// The README's caching guarantees (section "Caching"), against a real Redis and a real MariaDB:
/// each test gets a fresh database and its own key prefix (so its own keys and backplane channel)
/// on the collection's shared servers, which no test here breaks.
/// </summary>
[Collection(MariaDbRedisCollection.Name)]
public sealed class RedisCacheTests(MariaDbRedisFixture servers, ITestOutputHelper output)
{
    /// <summary>
    /// How long another instance may take to see a write. The README says "within milliseconds on
    /// loopback"; the bound is far above that because other builds and test runs share this
    /// machine. The measured delay is printed.
    /// </summary>
    private static readonly TimeSpan BackplaneBound = TimeSpan.FromSeconds(2);

    /// <summary>
    /// In the cross-instance tests the delayed repair (which also reaches every instance) is pushed
    /// past the end of the test, so that only the backplane message can bring the other instance
    /// up to date within <see cref="BackplaneBound"/>.
    /// </summary>
    private static readonly (string, string) NoRepairDuringTest = ("Cache:RepairDelay", "00:05:00");

    [Fact]
    public async Task AHitIsAnsweredWithoutADatabaseQueryAndCountedAsAHit()
    {
        var customers = await servers.CreateDatabaseAsync();
        await using var app = CacheInstance.Start(CacheInstance.RedisSettings(customers, servers.Redis.ConnectionString));
        using var queries = new DbQueryCounter(customers);
        var id = (await CustomerRows.InsertAsync(customers, 1))[0];
        queries.Take();

        var miss = await app.ReadAsync(id);
        Assert.Equal((HttpStatusCode.OK, "miss"), (miss.Status, miss.Cache));
        Assert.Single(queries.Take());
        Assert.Equal((0, 1), (app.Counters.Hits, app.Counters.Misses));

        var hit = await app.ReadAsync(id);
        Assert.Equal((HttpStatusCode.OK, "hit"), (hit.Status, hit.Cache));
        Assert.Equal(miss.Email, hit.Email);
        Assert.Empty(queries.Take());
        Assert.Equal((1, 1), (app.Counters.Hits, app.Counters.Misses));
    }

    [Fact]
    public async Task AnUpdateThroughOneInstanceIsReadThroughAnotherThatHadTheOldRowCached()
    {
        var settings = CacheInstance.RedisSettings(await servers.CreateDatabaseAsync(), servers.Redis.ConnectionString, NoRepairDuringTest);
        await using var a = CacheInstance.Start(settings);
        await using var b = CacheInstance.Start(settings);
        var created = await a.CreateAsync();
        var id = (int)created["id"]!;
        await AssertCachedAsync(b, id, (string)created["email"]!);

        var email = Json.UniqueEmail("updated");
        Assert.Equal(HttpStatusCode.OK, (await a.PatchEmailAsync(id, email)).StatusCode);

        var took = await Eventually.WithinAsync(BackplaneBound, "B serves A's update", async () => (await b.ReadAsync(id)).Email == email);
        output.WriteLine($"update through A visible on B after {took.TotalMilliseconds:0.0} ms");
        var onB = await b.ReadAsync(id);
        Assert.Equal((HttpStatusCode.OK, email, 2), (onB.Status, onB.Email, onB.Version));
    }

    [Fact]
    public async Task ADeleteThroughOneInstanceIsA404OnAnotherThatHadTheRowCached()
    {
        var settings = CacheInstance.RedisSettings(await servers.CreateDatabaseAsync(), servers.Redis.ConnectionString, NoRepairDuringTest);
        await using var a = CacheInstance.Start(settings);
        await using var b = CacheInstance.Start(settings);
        var created = await a.CreateAsync();
        var id = (int)created["id"]!;
        await AssertCachedAsync(b, id, (string)created["email"]!);

        Assert.Equal(HttpStatusCode.NoContent, (await a.Client.DeleteAsync($"/customers/{id}")).StatusCode);

        var took = await Eventually.WithinAsync(BackplaneBound, "B answers 404 after A's delete", async () => (await b.ReadAsync(id)).Status == HttpStatusCode.NotFound);
        output.WriteLine($"delete through A visible on B after {took.TotalMilliseconds:0.0} ms");
        Assert.Equal(HttpStatusCode.NotFound, (await b.ReadAsync(id)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await a.ReadAsync(id)).Status);
    }

    [Fact]
    public async Task ACreateThroughOneInstanceIsFoundThroughAnotherThatHadCachedItsAbsence()
    {
        var customers = await servers.CreateDatabaseAsync();
        var settings = CacheInstance.RedisSettings(customers, servers.Redis.ConnectionString, NoRepairDuringTest);
        await using var a = CacheInstance.Start(settings);
        await using var b = CacheInstance.Start(settings);
        var next = await CustomerRows.NextIdAsync(customers);
        await AssertCachedNotFoundAsync(b, next, original: false);

        var created = await a.CreateAsync();
        Assert.Equal(next, (int)created["id"]!);

        var took = await Eventually.WithinAsync(BackplaneBound, "B finds the customer A created", async () => (await b.ReadAsync(next)).Status == HttpStatusCode.OK);
        output.WriteLine($"create through A visible on B after {took.TotalMilliseconds:0.0} ms");
        Assert.Equal((string?)created["email"], (await b.ReadAsync(next)).Email);
    }

    [Fact]
    public async Task ACachedNotFoundNeverHidesARowCreatedAfterwardsOnAnyInstance()
    {
        // Through the original app's routes, so that surface is covered too (same cache entries).
        var customers = await servers.CreateDatabaseAsync();
        var settings = CacheInstance.RedisSettings(customers, servers.Redis.ConnectionString, NoRepairDuringTest);
        await using var a = CacheInstance.Start(settings);
        await using var b = CacheInstance.Start(settings);
        var next = await CustomerRows.NextIdAsync(customers);
        await AssertCachedNotFoundAsync(a, next, original: true);
        await AssertCachedNotFoundAsync(b, next, original: true);

        var response = await a.Client.PostAsync("/create", Json.Body(new { name = "Late Comer", email = Json.UniqueEmail("late") }));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(next, (int)(await response.ReadObjectAsync())["id"]!);

        // The writing instance has it at once: the write's response is sent after its cache has the row.
        Assert.Equal(HttpStatusCode.OK, (await a.ReadOriginalAsync(next)).Status);
        var took = await Eventually.WithinAsync(BackplaneBound, "B finds the customer created after its cached 404", async () => (await b.ReadOriginalAsync(next)).Status == HttpStatusCode.OK);
        output.WriteLine($"create through A visible on B (cached 404) after {took.TotalMilliseconds:0.0} ms");
    }

    [Fact]
    public async Task AfterConcurrentWritesAndReadsOnTwoInstancesEveryInstanceServesTheDatabaseRowWithinTheRepairBound()
    {
        // README: "after the last write to a customer, every instance serves the database's row within
        // Cache:RepairDelay plus the backplane delay". RepairDelay is lowered to keep the test short;
        // the bound adds 3 s for the backplane, the repair timer's 100 ms tick and a busy machine.
        var repairDelay = TimeSpan.FromMilliseconds(500);
        var bound = repairDelay + TimeSpan.FromSeconds(3);
        var customers = await servers.CreateDatabaseAsync();
        var settings = CacheInstance.RedisSettings(customers, servers.Redis.ConnectionString, ("Cache:RepairDelay", "00:00:00.500"));
        await using var a = CacheInstance.Start(settings);
        await using var b = CacheInstance.Start(settings);
        var id = (int)(await a.CreateAsync())["id"]!;
        await b.ReadAsync(id);

        var duration = TimeSpan.FromSeconds(3);
        var (writes, reads) = await WriteRace.RunAsync(a, b, id, duration);

        var truth = await CustomerRows.ReadAsync(customers, id) ?? throw new InvalidOperationException("The customer vanished.");
        var atStop = new[] { await a.ReadAsync(id), await b.ReadAsync(id) };
        var took = await Eventually.WithinAsync(bound, "every instance serves the database's final row", async () =>
        {
            var (onA, onB) = (await a.ReadAsync(id), await b.ReadAsync(id));
            return (onA.Email, onA.Version) == truth && (onB.Email, onB.Version) == truth;
        });
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{writes} writes, {reads} reads in {duration.TotalSeconds} s; final version {truth.Version}; right after the writers stopped A served v{atStop[0].Version}, B v{atStop[1].Version}; both served the database row after {took.TotalMilliseconds:0} ms"));

        // Repairs still due (one per writing instance) must not bring an older row back.
        await Task.Delay(repairDelay + TimeSpan.FromMilliseconds(300));
        foreach (var app in new[] { a, b })
        {
            var read = await app.ReadAsync(id);
            Assert.Equal(truth, (read.Email!, read.Version!.Value));
        }
    }

    [Fact]
    public async Task WritesWhoseRepairsFallDueTogetherAreReadBackInOneQuery()
    {
        var customers = await servers.CreateDatabaseAsync();
        await using var app = CacheInstance.Start(CacheInstance.RedisSettings(customers, servers.Redis.ConnectionString, ("Cache:Mode", "Memory"), ("Cache:RepairDelay", "00:00:01")));
        using var queries = new DbQueryCounter(customers);
        var created = await Task.WhenAll(Enumerable.Range(0, 40).Select(_ => app.CreateAsync()));
        var ids = created.Select(c => (int)c["id"]!).ToHashSet();
        queries.Take();

        // Every write's repair is due a second after it; the repair loop reads what is due at each 100 ms tick together.
        var repairs = new List<string>();
        await Eventually.WithinAsync(TimeSpan.FromSeconds(10), "every created id was read back by a repair", () =>
        {
            repairs.AddRange(queries.Take().Where(q => q.Contains("WHERE id IN (", StringComparison.Ordinal)));
            var covered = repairs.SelectMany(q => q[(q.LastIndexOf('(') + 1)..q.LastIndexOf(')')].Split(',')).Select(int.Parse).ToHashSet();
            return Task.FromResult(ids.IsSubsetOf(covered));
        }, TimeSpan.FromMilliseconds(100));

        Assert.True(repairs.Count < ids.Count / 2, $"{repairs.Count} repair queries for {ids.Count} writes");
    }

    [Theory]
    [InlineData("Memory")]
    [InlineData("Redis")]
    public async Task AHundredConcurrentMissesOfOneIdMakeOneDatabaseQuery(string mode)
    {
        var customers = await servers.CreateDatabaseAsync();
        await using var app = CacheInstance.Start(CacheInstance.RedisSettings(customers, servers.Redis.ConnectionString, ("Cache:Mode", mode)));
        using var queries = new DbQueryCounter(customers);
        var id = (await CustomerRows.InsertAsync(customers, 1))[0];
        queries.Take();

        // All 100 wait on one gate, so they arrive together rather than as fast as they can be started.
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var requests = Enumerable.Range(0, 100).Select(async _ =>
        {
            await gate.Task;
            return await app.ReadAsync(id);
        }).ToArray();
        gate.SetResult();
        var reads = await Task.WhenAll(requests);

        Assert.All(reads, r => Assert.Equal(HttpStatusCode.OK, r.Status));
        Assert.Single(queries.Take());
        Assert.Single(reads, r => r.Cache == "miss");
        Assert.Equal((99, 1), (app.Counters.Hits, app.Counters.Misses));
    }

    [Theory]
    [InlineData("Memory")]
    [InlineData("Redis")]
    public async Task AMissingIdIsCachedForNotFoundDurationAndThenQueriedAgain(string mode)
    {
        var notFoundDuration = TimeSpan.FromSeconds(1);
        var customers = await servers.CreateDatabaseAsync();
        await using var app = CacheInstance.Start(CacheInstance.RedisSettings(
            customers, servers.Redis.ConnectionString, ("Cache:Mode", mode), ("Cache:NotFoundDuration", "00:00:01")));
        using var queries = new DbQueryCounter(customers);
        const int Missing = 987_654;

        var cachedAt = Stopwatch.StartNew();
        var first = await app.ReadAsync(Missing);
        var second = await app.ReadAsync(Missing);
        Assert.Equal((HttpStatusCode.NotFound, "miss"), (first.Status, first.Cache));
        Assert.Equal((HttpStatusCode.NotFound, "hit"), (second.Status, second.Cache));
        Assert.Single(queries.Take());

        // Half a second past the entry's lifetime (no jitter on not-found entries).
        await Task.Delay(notFoundDuration + TimeSpan.FromMilliseconds(500) - cachedAt.Elapsed);
        var third = await app.ReadAsync(Missing);
        Assert.Equal((HttpStatusCode.NotFound, "miss"), (third.Status, third.Cache));
        Assert.Single(queries.Take());
    }

    [Fact]
    public async Task WithCacheModeNoneEveryReadQueriesTheDatabaseAndNoXCacheHeaderIsSent()
    {
        var customers = await servers.CreateDatabaseAsync();
        await using var app = CacheInstance.Start(CacheInstance.RedisSettings(customers, servers.Redis.ConnectionString, ("Cache:Mode", "None")));
        using var queries = new DbQueryCounter(customers);
        var id = (await CustomerRows.InsertAsync(customers, 1))[0];
        queries.Take();

        for (var i = 0; i < 3; i++)
        {
            var read = await app.ReadAsync(id);
            Assert.Equal((HttpStatusCode.OK, null), (read.Status, read.Cache));
            Assert.Null((await app.ReadOriginalAsync(id)).Cache);
        }

        Assert.Equal(6, queries.Take().Count);
        Assert.Equal((0, 0), (app.Counters.Hits, app.Counters.Misses));
    }

    [Fact]
    public async Task CacheHeaderFalseHidesXCacheWhileReadsAreStillCached()
    {
        var customers = await servers.CreateDatabaseAsync();
        await using var app = CacheInstance.Start(CacheInstance.RedisSettings(customers, servers.Redis.ConnectionString, ("Cache:CacheHeader", "false")));
        using var queries = new DbQueryCounter(customers);
        var id = (await CustomerRows.InsertAsync(customers, 1))[0];
        queries.Take();

        var reads = new[] { await app.ReadAsync(id), await app.ReadAsync(id), await app.ReadOriginalAsync(id) };

        Assert.All(reads, r => Assert.Equal((HttpStatusCode.OK, null), (r.Status, r.Cache)));
        Assert.Single(queries.Take());
        Assert.Equal((2, 1), (app.Counters.Hits, app.Counters.Misses));
    }

    [Fact]
    public async Task IfNoneMatchIsAnswered304FromACacheHitWithoutADatabaseQuery()
    {
        var customers = await servers.CreateDatabaseAsync();
        await using var app = CacheInstance.Start(CacheInstance.RedisSettings(customers, servers.Redis.ConnectionString));
        using var queries = new DbQueryCounter(customers);
        var id = (await CustomerRows.InsertAsync(customers, 1))[0];
        queries.Take();
        var first = await app.ReadAsync(id);
        Assert.Equal((HttpStatusCode.OK, "miss"), (first.Status, first.Cache));
        queries.Take();

        var conditional = await app.ReadAsync(id, ifNoneMatch: first.ETag);

        Assert.Equal((HttpStatusCode.NotModified, "hit"), (conditional.Status, conditional.Cache));
        Assert.Equal(first.ETag, conditional.ETag);
        Assert.Empty(queries.Take());
    }

    /// <summary>
    /// Also the latency record: medians of in-process reads (HttpClient → TestServer → handler), a
    /// miss (Redis miss + MariaDB + Redis set + backplane publish), a hit in the instance's memory,
    /// and a hit in Redis on another instance. Printed, never asserted (the machine is shared).
    /// </summary>
    [Fact]
    public async Task MissesQueryOnceEachWhileMemoryAndRedisHitsQueryNothing()
    {
        const int N = 200;
        var customers = await servers.CreateDatabaseAsync();
        var settings = CacheInstance.RedisSettings(customers, servers.Redis.ConnectionString, NoRepairDuringTest);
        await using var a = CacheInstance.Start(settings);
        await using var b = CacheInstance.Start(settings);
        using var queries = new DbQueryCounter(customers);
        var ids = await CustomerRows.InsertAsync(customers, N + 3);
        foreach (var warmUp in ids.Take(3))
        {
            await a.ReadAsync(warmUp);
            await a.ReadAsync(warmUp);
            await b.ReadAsync(warmUp);
        }

        var measured = ids.Skip(3).ToArray();
        queries.Take();

        var misses = await ReadEachAsync(a, measured);
        Assert.All(misses, r => Assert.Equal((HttpStatusCode.OK, "miss"), (r.Status, r.Cache)));
        Assert.Equal(N, queries.Take().Count);

        var memoryHits = await ReadEachAsync(a, measured);
        var redisHits = await ReadEachAsync(b, measured);
        Assert.All(memoryHits.Concat(redisHits), r => Assert.Equal((HttpStatusCode.OK, "hit"), (r.Status, r.Cache)));
        Assert.Empty(queries.Take());

        output.WriteLine($"in-process GET /customers/{{id}}, {N} distinct ids each, median / p90:");
        output.WriteLine($"  miss (MariaDB):          {Describe(misses)}");
        output.WriteLine($"  hit in memory (L1):      {Describe(memoryHits)}");
        output.WriteLine($"  hit in Redis (L2, on B): {Describe(redisHits)}");
    }

    private static async Task<CachedRead[]> ReadEachAsync(CacheInstance app, IEnumerable<int> ids)
    {
        var reads = new List<CachedRead>();
        foreach (var id in ids)
        {
            reads.Add(await app.ReadAsync(id));
        }

        return [.. reads];
    }

    private static string Describe(IEnumerable<CachedRead> reads)
    {
        var sorted = reads.Select(r => r.Elapsed.TotalMilliseconds).Order().ToArray();
        return string.Create(CultureInfo.InvariantCulture, $"{sorted[sorted.Length / 2]:0.000} ms / {sorted[sorted.Length * 9 / 10]:0.000} ms");
    }

    /// <summary>Reads twice so that the row is in <paramref name="app"/>'s own memory, and checks the second read was a hit.</summary>
    private static async Task AssertCachedAsync(CacheInstance app, int id, string email)
    {
        await app.ReadAsync(id);
        var read = await app.ReadAsync(id);
        Assert.Equal((HttpStatusCode.OK, "hit", email), (read.Status, read.Cache, read.Email));
    }

    /// <summary>
    /// Reads a missing id twice, so that its absence is in <paramref name="app"/>'s own memory. The
    /// first read may already be a hit: another instance's miss put the not-found in Redis.
    /// </summary>
    private static async Task AssertCachedNotFoundAsync(CacheInstance app, int id, bool original)
    {
        var first = original ? await app.ReadOriginalAsync(id) : await app.ReadAsync(id);
        var second = original ? await app.ReadOriginalAsync(id) : await app.ReadAsync(id);
        Assert.Equal(HttpStatusCode.NotFound, first.Status);
        Assert.Equal((HttpStatusCode.NotFound, "hit"), (second.Status, second.Cache));
    }
}
