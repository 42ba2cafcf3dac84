using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using CustomerRecords.Tests.Infrastructure;
using Xunit.Abstractions;

namespace CustomerRecords.Tests.Caching;

/// <summary>
/// <c>Cache:Mode=Memcached</c> through the service: memory (L1) + a real memcached (L2), no backplane, over a fresh
/// database on the collection's MariaDB. Each test starts its own memcached, so it may kill or pause it.
/// </summary>
[Collection(MariaDbRedisCollection.Name)]
public sealed class MemcachedCacheTests(MariaDbRedisFixture servers, ITestOutputHelper output)
{
    /// <summary>How long another instance's memory copy lives in these tests (the window a write may be unseen there).</summary>
    private static readonly TimeSpan MemoryDuration = TimeSpan.FromSeconds(2);

    /// <summary>Only the memory expiry (or a recovery) may bring another instance up to date: the delayed repair is pushed out of the tests.</summary>
    private static readonly (string, string) NoRepairDuringTest = ("Cache:RepairDelay", "00:05:00");

    public enum Fault
    {
        /// <summary>SIGKILL, writes while it is down, then a start with no data.</summary>
        RestartEmpty,

        /// <summary>SIGSTOP (unreachable but keeping its data, as in a partition), writes meanwhile, then SIGCONT.</summary>
        Hang,
    }

    public static Dictionary<string, string?> MemcachedSettings(string customers, MemcachedServer memcached, params (string Key, string Value)[] overrides)
    {
        var settings = CacheInstance.RedisSettings(customers, "unused", overrides);
        settings.Remove("ConnectionStrings:Redis");
        settings["Cache:Mode"] = "Memcached";
        settings["ConnectionStrings:Memcached"] = memcached.ConnectionString;
        settings["Cache:MemoryDuration"] = MemoryDuration.ToString();
        foreach (var (key, value) in overrides)
        {
            settings[key] = value;
        }

        return settings;
    }

    [Fact]
    public async Task WritesGoThroughToMemcachedAndReadsOnEveryInstanceHitWithoutADatabaseQuery()
    {
        await using var memcached = await MemcachedServer.StartAsync();
        var customers = await servers.CreateDatabaseAsync();
        var settings = MemcachedSettings(customers, memcached, NoRepairDuringTest);
        await using var a = CacheInstance.Start(settings);
        await using var b = CacheInstance.Start(settings);
        using var queries = new DbQueryCounter(customers);

        var id = (int)(await a.CreateAsync())["id"]!;
        Assert.Equal([WireKey(a, id)], await KeysAsync(memcached)); // write-through reached memcached, under the key the other tests read
        Assert.Equal(1, await StoredVersionAsync(memcached, a, id));
        queries.Take();

        var onA = await a.ReadAsync(id);
        var onB = await b.ReadAsync(id); // never read on B: from memcached
        Assert.Equal((HttpStatusCode.OK, "hit", 1), (onA.Status, onA.Cache, onA.Version));
        Assert.Equal((HttpStatusCode.OK, "hit", 1), (onB.Status, onB.Cache, onB.Version));
        Assert.Empty(queries.Take());

        var email = Json.UniqueEmail("memcached");
        Assert.Equal(HttpStatusCode.OK, (await a.PatchEmailAsync(id, email)).StatusCode);
        var afterPatch = await a.ReadAsync(id);
        Assert.Equal(("hit", email, 2), (afterPatch.Cache, afterPatch.Email, afterPatch.Version));

        // A miss on one instance fills memcached for the other.
        var uncached = (await CustomerRows.InsertAsync(customers, 1))[0];
        queries.Take();
        Assert.Equal("miss", (await a.ReadAsync(uncached)).Cache);
        Assert.Single(queries.Take());
        Assert.Equal("hit", (await b.ReadAsync(uncached)).Cache);
        Assert.Empty(queries.Take());

        using (var deleted = await a.Client.DeleteAsync($"/customers/{id}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        Assert.Equal(HttpStatusCode.NotFound, (await a.ReadAsync(id)).Status);

        // B's memory copy (v2) expires; then B reads the deletion from memcached.
        await Eventually.WithinAsync(MemoryDuration + TimeSpan.FromSeconds(3), "B answers 404 for the deleted customer", async () => (await b.ReadAsync(id)).Status == HttpStatusCode.NotFound, TimeSpan.FromMilliseconds(50));
    }

    [Fact]
    public async Task AWriteOnOneInstanceIsSeenOnAnotherWithinMemoryDuration()
    {
        await using var memcached = await MemcachedServer.StartAsync();
        var settings = MemcachedSettings(await servers.CreateDatabaseAsync(), memcached, NoRepairDuringTest);
        await using var a = CacheInstance.Start(settings);
        await using var b = CacheInstance.Start(settings);
        var bound = MemoryDuration + TimeSpan.FromSeconds(2); // the timer resolution of the memory cache and a busy machine

        var windows = new List<TimeSpan>();
        for (var round = 0; round < 3; round++)
        {
            var id = (int)(await a.CreateAsync())["id"]!;
            Assert.Equal(1, (await b.ReadAsync(id)).Version); // B now holds version 1 in its memory

            // Somewhere within B's memory lifetime, as a real write would be.
            await Task.Delay(TimeSpan.FromMilliseconds(round * 600));
            var email = Json.UniqueEmail("window");
            var written = Stopwatch.StartNew();
            Assert.Equal(HttpStatusCode.OK, (await a.PatchEmailAsync(id, email)).StatusCode);
            windows.Add(await Eventually.WithinAsync(bound, "B serves A's write", async () => (await b.ReadAsync(id)).Email == email, TimeSpan.FromMilliseconds(20)));
        }

        output.WriteLine("write on A seen on B after (ms): " + string.Join(", ", windows.Select(w => w.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture)))
            + $" (Cache:MemoryDuration {MemoryDuration.TotalMilliseconds:0} ms, no backplane)");
    }

    [Fact]
    public async Task AfterConcurrentWritesAndReadsOnTwoInstancesMemcachedHoldsTheNewestVersion()
    {
        await using var memcached = await MemcachedServer.StartAsync();
        var customers = await servers.CreateDatabaseAsync();
        var settings = MemcachedSettings(customers, memcached, NoRepairDuringTest);
        await using var a = CacheInstance.Start(settings);
        await using var b = CacheInstance.Start(settings);
        var id = (int)(await a.CreateAsync())["id"]!;
        await b.ReadAsync(id);

        var duration = TimeSpan.FromSeconds(3);
        var (writes, reads) = await WriteRace.RunAsync(a, b, id, duration);

        // No repair ran (5 min away): what memcached holds came from write-throughs and reads that raced them.
        var truth = await CustomerRows.ReadAsync(customers, id) ?? throw new InvalidOperationException("The customer vanished.");
        var stored = await StoredVersionAsync(memcached, a, id);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{writes} writes, {reads} reads in {duration.TotalSeconds} s; database version {truth.Version}; memcached held version {stored} when the writers stopped"));
        Assert.Equal(truth.Version, stored);

        // Printed: when each instance came up to date (the bound is asserted, with three instances and timestamps,
        // by UnderConcurrentWritesFromEveryInstanceNoReadIsOlderThanAnAcknowledgedWriteBeyondTheStatedWindow).
        var watch = Stopwatch.StartNew();
        var last = string.Empty;
        while (watch.Elapsed < MemoryDuration + TimeSpan.FromSeconds(6))
        {
            var (onA, onB) = (await a.ReadAsync(id), await b.ReadAsync(id));
            var seen = $"A v{onA.Version} {onA.Cache}, B v{onB.Version} {onB.Cache}";
            if (seen != last)
            {
                output.WriteLine($"{watch.ElapsedMilliseconds} ms after the writers stopped: {seen}");
                last = seen;
            }

            if ((onA.Email, onA.Version) == truth && (onB.Email, onB.Version) == truth)
            {
                break;
            }

            await Task.Delay(50);
        }
    }

    /// <summary>
    /// The window the README states for this mode: a read started this long after a write was acknowledged (by any
    /// instance) never returns an older version. <see cref="MemoryDuration"/> plus a margin for a loaded machine.
    /// </summary>
    private static readonly TimeSpan StatedWindow = MemoryDuration + TimeSpan.FromSeconds(1);

    [Fact]
    public async Task UnderConcurrentWritesFromEveryInstanceNoReadIsOlderThanAnAcknowledgedWriteBeyondTheStatedWindow()
    {
        await using var memcached = await MemcachedServer.StartAsync();
        var customers = await servers.CreateDatabaseAsync();
        var settings = MemcachedSettings(customers, memcached, NoRepairDuringTest);
        CacheInstance[] apps = [CacheInstance.Start(settings), CacheInstance.Start(settings), CacheInstance.Start(settings)];
        try
        {
            var id = (int)(await apps[0].CreateAsync())["id"]!;
            foreach (var app in apps)
            {
                Assert.Equal(1, (await app.ReadAsync(id)).Version);
            }

            // Writes from every instance for a few seconds, then reads only: the stale copies seen before ran past
            // the end of the writes. Bounded by time and by count, whichever comes first.
            var clock = Stopwatch.StartNew();
            var writing = TimeSpan.FromSeconds(4);
            var reading = writing + StatedWindow + TimeSpan.FromSeconds(5);
            const int MaxWritesPerWriter = 400;
            var acknowledged = new ConcurrentBag<(TimeSpan At, int Version)>();
            var reads = new ConcurrentBag<(int App, TimeSpan Started, int Version, string? Cache)>();
            var failures = new ConcurrentQueue<string>();

            async Task WriteAsync(CacheInstance app)
            {
                for (var n = 0; n < MaxWritesPerWriter && clock.Elapsed < writing; n++)
                {
                    using var response = await app.PatchEmailAsync(id, Json.UniqueEmail("contended"));
                    var at = clock.Elapsed;
                    if (response.StatusCode != HttpStatusCode.OK)
                    {
                        failures.Enqueue($"write {response.StatusCode}");
                        continue;
                    }

                    acknowledged.Add((at, (int)(await response.ReadObjectAsync())["version"]!));
                }
            }

            async Task ReadAsync(int index)
            {
                while (clock.Elapsed < reading)
                {
                    var started = clock.Elapsed;
                    var read = await apps[index].ReadAsync(id);
                    if (read.Status != HttpStatusCode.OK || read.Version is not { } version)
                    {
                        failures.Enqueue($"read {read.Status}");
                        continue;
                    }

                    reads.Add((index, started, version, read.Cache));
                    await Task.Delay(TimeSpan.FromMilliseconds(20));
                }
            }

            await Task.WhenAll([
                .. apps.SelectMany(app => new[] { Task.Run(() => WriteAsync(app)), Task.Run(() => WriteAsync(app)) }),
                .. Enumerable.Range(0, apps.Length).Select(i => Task.Run(() => ReadAsync(i))),
            ]);
            Assert.Empty(failures);

            // Each read against the newest version acknowledged more than the stated window before it started.
            var acks = acknowledged.OrderBy(a => a.At).ToList();
            var stale = new List<string>();
            var longest = TimeSpan.Zero;
            foreach (var read in reads.OrderBy(r => r.Started))
            {
                var newer = acks.Where(a => a.At <= read.Started && a.Version > read.Version).ToList();
                if (newer.Count == 0)
                {
                    continue;
                }

                var behind = read.Started - newer.Min(a => a.At); // since the first acknowledged write it does not show
                longest = behind > longest ? behind : longest;
                if (behind > StatedWindow)
                {
                    stale.Add(string.Create(CultureInfo.InvariantCulture,
                        $"instance {read.App} at {read.Started.TotalMilliseconds:0} ms served v{read.Version} ({read.Cache}), {behind.TotalMilliseconds:0} ms after v{newer.Max(a => a.Version)} was acknowledged"));
                }
            }

            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{acks.Count} acknowledged writes (last v{acks.Max(a => a.Version)}), {reads.Count} reads on {apps.Length} instances; longest a read lagged an acknowledged write: {longest.TotalMilliseconds:0} ms (stated window {StatedWindow.TotalMilliseconds:0} ms)"));
            foreach (var line in stale.Take(20))
            {
                output.WriteLine(line);
            }

            Assert.True(acks.Count >= 20, $"only {acks.Count} writes were acknowledged: the race did not happen");
            Assert.Empty(stale);
        }
        finally
        {
            foreach (var app in apps)
            {
                await app.DisposeAsync();
            }
        }
    }

    [Theory]
    [InlineData(Fault.RestartEmpty)]
    [InlineData(Fault.Hang)]
    public async Task WhileMemcachedIsAwayNoRequestFailsAndAfterItReturnsTheCacheIsUsedAgainWithNoStaleRead(Fault fault)
    {
        await using var memcached = await MemcachedServer.StartAsync();
        var customers = await servers.CreateDatabaseAsync();
        var settings = MemcachedSettings(customers, memcached, NoRepairDuringTest);
        await using var a = CacheInstance.Start(settings);
        await using var b = CacheInstance.Start(settings);
        using var queries = new DbQueryCounter(customers);
        await Eventually.WithinAsync(TimeSpan.FromSeconds(5), "A reports the cache Healthy", async () => await CacheHealthAsync(a) == "Healthy");

        var ids = new List<int>();
        for (var i = 0; i < 4; i++)
        {
            var id = (int)(await a.CreateAsync())["id"]!;
            ids.Add(id);
            Assert.Equal("hit", (await b.ReadAsync(id)).Cache); // from memcached, now in B's memory too
        }

        var uncached = await CustomerRows.InsertAsync(customers, 4);
        if (fault == Fault.RestartEmpty)
        {
            await memcached.KillAsync();
        }
        else
        {
            memcached.Pause();
        }

        var statuses = new List<HttpStatusCode>();
        var acknowledged = new Dictionary<int, (string Email, int Version)>();
        var slowest = TimeSpan.Zero;
        try
        {
            var noticed = await Eventually.WithinAsync(TimeSpan.FromSeconds(10), "A reports the cache Degraded", async () => await CacheHealthAsync(a) == "Degraded");
            output.WriteLine($"{fault}: /health/ready said the cache was Degraded (with 200) after {noticed.TotalMilliseconds:0} ms");

            // Writes through both instances, and reads of uncached rows from the database, all while memcached is away.
            foreach (var (id, n) in ids.Select((id, n) => (id, n)))
            {
                var writer = n % 2 == 0 ? a : b;
                var email = Json.UniqueEmail("away");
                var clock = Stopwatch.StartNew();
                using var response = await writer.PatchEmailAsync(id, email);
                slowest = Max(slowest, clock.Elapsed);
                statuses.Add(response.StatusCode);
                acknowledged[id] = (email, (int)(await response.ReadObjectAsync())["version"]!);
            }

            foreach (var id in uncached)
            {
                queries.Take();
                var read = await b.ReadAsync(id);
                slowest = Max(slowest, read.Elapsed);
                statuses.Add(read.Status);
                Assert.Equal("miss", read.Cache);
                Assert.NotEmpty(queries.Take()); // served from the database
            }

            using var created = await a.Client.PostAsync("/customers", Json.Body(new { name = "While Away", email = Json.UniqueEmail("away") }));
            statuses.Add(created.StatusCode);
            Assert.Equal("Degraded", await CacheHealthAsync(b));
        }
        finally
        {
            if (fault == Fault.RestartEmpty)
            {
                await memcached.StartAgainAsync();
            }
            else
            {
                memcached.Resume();
            }
        }

        output.WriteLine($"{fault}: {statuses.Count} requests while memcached was away: {string.Join(", ", statuses.GroupBy(s => (int)s).Select(g => $"{g.Count()} x {g.Key}"))}; slowest {slowest.TotalMilliseconds:0} ms");
        Assert.DoesNotContain(statuses, s => (int)s >= 500);
        Assert.All(statuses, s => Assert.True(s is HttpStatusCode.OK or HttpStatusCode.Created, s.ToString()));

        var back = Stopwatch.StartNew();
        await Eventually.WithinAsync(TimeSpan.FromSeconds(10), "both instances report the cache Healthy again", async () =>
            await CacheHealthAsync(a) == "Healthy" && await CacheHealthAsync(b) == "Healthy", TimeSpan.FromMilliseconds(50));
        var healthy = back.Elapsed;

        // README promise: within 10 s of memcached answering again, every instance - and one started now - serves
        // the last acknowledged write of every id (a hung memcached still holds the older versions: the writers set them again).
        await using var c = CacheInstance.Start(settings);
        foreach (var (name, instance) in new[] { ("A", a), ("B", b), ("C", c) })
        {
            foreach (var id in ids)
            {
                await Eventually.WithinAsync(TimeSpan.FromSeconds(10) - back.Elapsed, $"{fault}: {name} serves version {acknowledged[id].Version} of customer {id}",
                    async () => (await instance.ReadAsync(id)).Version == acknowledged[id].Version, TimeSpan.FromMilliseconds(50));
            }
        }

        var converged = back.Elapsed;
        foreach (var id in ids)
        {
            Assert.Equal(acknowledged[id].Version, await StoredVersionAsync(memcached, a, id));
        }

        // The cache is used again: a miss on A is stored in memcached and C, which never read it, hits.
        var fresh = (await CustomerRows.InsertAsync(customers, 1))[0];
        await Eventually.WithinAsync(TimeSpan.FromSeconds(5), "a miss on A is cached in memcached and C reads it from there", async () =>
        {
            await a.ReadAsync(fresh);
            queries.Take();
            var read = await c.ReadAsync(fresh);
            return read.Cache == "hit" && queries.Take().Count == 0;
        }, TimeSpan.FromMilliseconds(100));

        // No stale read afterwards, on any instance, for as long as a memory copy could live.
        var until = Stopwatch.StartNew();
        while (until.Elapsed < MemoryDuration + TimeSpan.FromSeconds(1))
        {
            foreach (var instance in new[] { a, b, c })
            {
                foreach (var id in ids)
                {
                    Assert.Equal(acknowledged[id].Version, (await instance.ReadAsync(id)).Version);
                }
            }

            await Task.Delay(100);
        }

        output.WriteLine($"{fault}: Healthy again {healthy.TotalMilliseconds:0} ms after memcached returned; every instance served every last write after {converged.TotalMilliseconds:0} ms; no stale read in the {MemoryDuration.TotalSeconds + 1:0} s after");
    }

    [Fact]
    public async Task AnUnreachableMemcachedAtStartIsADegradedCacheNotAFailedStart()
    {
        var customers = await servers.CreateDatabaseAsync();
        var settings = CacheInstance.RedisSettings(customers, "unused");
        settings.Remove("ConnectionStrings:Redis");
        settings["Cache:Mode"] = "Memcached";
        settings["ConnectionStrings:Memcached"] = string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{FreePort.Get()}"); // nothing listens
        await using var app = CacheInstance.Start(settings);

        var id = (int)(await app.CreateAsync())["id"]!;
        var read = await app.ReadAsync(id);

        Assert.Equal((HttpStatusCode.OK, 1), (read.Status, read.Version));
        await Eventually.WithinAsync(TimeSpan.FromSeconds(5), "the cache is reported Degraded", async () => await CacheHealthAsync(app) == "Degraded", TimeSpan.FromMilliseconds(50));
    }

    [Fact]
    public async Task MemcachedModeWithoutAServerListStopsStartUpWithOneClearMessage()
    {
        var settings = CustomerApiFactory.SqliteSettings(TempDirectory.ForRun());
        settings["Cache:Mode"] = "Memcached";
        await using var factory = new CustomerApiFactory(settings);

        var error = Assert.ThrowsAny<Exception>(() => factory.CreateClient());

        Assert.Contains("Cache:Mode is Memcached but ConnectionStrings:Memcached is empty", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AMalformedServerListStopsStartUp()
    {
        var settings = CustomerApiFactory.SqliteSettings(TempDirectory.ForRun());
        settings["Cache:Mode"] = "Memcached";
        settings["ConnectionStrings:Memcached"] = "cache1:11211,cache2:notaport";
        await using var factory = new CustomerApiFactory(settings);

        var error = Assert.ThrowsAny<Exception>(() => factory.CreateClient());

        Assert.Contains("ConnectionStrings:Memcached is not a list of memcached servers", error.Message, StringComparison.Ordinal);
    }

    private static TimeSpan Max(TimeSpan x, TimeSpan y) => x > y ? x : y;

    /// <summary><c>checks.cache.status</c> of <c>/health/ready</c>, which must answer 200 whatever memcached does.</summary>
    private static async Task<string?> CacheHealthAsync(CacheInstance app)
    {
        using var response = await app.Client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.ReadObjectAsync();
        return (string?)body["checks"]?["cache"]?["status"];
    }

    /// <summary>Every key memcached holds (<c>lru_crawler metadump all</c>).</summary>
    private static async Task<List<string>> KeysAsync(MemcachedServer memcached)
    {
        var dump = await RawAsync(memcached, "lru_crawler metadump all", "END\r\n");
        return [.. dump.Split("\r\n").Where(l => l.StartsWith("key=", StringComparison.Ordinal)).Select(l => Uri.UnescapeDataString(l.Split(' ')[0]["key=".Length..]))];
    }

    /// <summary>
    /// The key FusionCache gives memcached: its wire-format version (<c>v2:</c>) before the service's key. The first
    /// test checks it against what memcached really holds (<c>lru_crawler metadump</c> lists keys, but is not
    /// complete while items are being written, so the other tests read the key directly).
    /// </summary>
    private static string WireKey(CacheInstance app, int id) => "v2:" + app.RedisKey(id);

    /// <summary>The version memcached stores (in the flags, plus one) for customer <paramref name="id"/>; null when there is none.</summary>
    private static async Task<long?> StoredVersionAsync(MemcachedServer memcached, CacheInstance app, int id)
    {
        var reply = await RawAsync(memcached, "get " + WireKey(app, id), "END\r\n");
        var header = reply.Split("\r\n")[0].Split(' ');
        return header[0] == "VALUE" ? long.Parse(header[2], CultureInfo.InvariantCulture) - 1 : null;
    }

    private static async Task<string> RawAsync(MemcachedServer memcached, string command, string terminator)
    {
        using var client = new TcpClient();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await client.ConnectAsync(memcached.Host, memcached.Port, deadline.Token);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(command + "\r\n"), deadline.Token);
        var text = new StringBuilder();
        var buffer = new byte[16384];
        while (!text.ToString().EndsWith(terminator, StringComparison.Ordinal))
        {
            var read = await stream.ReadAsync(buffer, deadline.Token);
            Assert.NotEqual(0, read);
            text.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }

        return text.ToString();
    }
}
