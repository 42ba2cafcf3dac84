using System.Diagnostics;
using System.Net;
using CustomerRecords.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Xunit.Abstractions;

namespace CustomerRecords.Tests.Caching;

/// <summary>
/// The cache while the database fails. Each test breaks its own MariaDB server (SIGKILL or
/// SIGSTOP); Redis is the collection's shared one, which stays up.
/// </summary>
[Collection(MariaDbRedisCollection.Name)]
public sealed class DatabaseOutageCacheTests(MariaDbRedisFixture servers, ITestOutputHelper output)
{
    [Fact]
    public async Task AnExpiredEntryIsStillServedWithinTheFailSafeGracePeriodPastItsExpiryWhenTheDatabaseIsDown()
    {
        // README: Cache:FailSafe serves the last cached value when the database fails, "for at most
        // Cache:FailSafeGracePeriod past its expiry". Here it expires 2 s after it is cached and may
        // be served until 3 s; it is asked for at 2.5 s with the database killed. The fail-safe
        // window is shorter than the lifetime, as with the defaults (30 min and 1 h).
        await using var database = await MariaDbServer.StartAsync();
        var customers = await database.CreateDatabaseAsync();
        await using var app = CacheInstance.Start(CacheInstance.RedisSettings(customers, servers.Redis.ConnectionString,
            ("Cache:Duration", "00:00:02"), ("Cache:Jitter", "00:00:00"), ("Cache:MemoryDuration", "00:00:01"),
            ("Cache:FailSafeGracePeriod", "00:00:01"), ("Database:MaxRetries", "0")));
        var id = (await CustomerRows.InsertAsync(customers, 1))[0];

        var cachedAt = Stopwatch.StartNew();
        var cached = await app.ReadAsync(id);
        Assert.Equal((HttpStatusCode.OK, "miss"), (cached.Status, cached.Cache));
        await database.KillAsync();
        await Task.Delay(TimeSpan.FromSeconds(2.5) - cachedAt.Elapsed);

        var stale = await app.ReadAsync(id);
        output.WriteLine($"read {cachedAt.Elapsed.TotalMilliseconds:0} ms after caching, database down: {(int)stale.Status}");
        Assert.Equal((HttpStatusCode.OK, cached.Email), (stale.Status, stale.Email));
    }

    [Fact]
    public async Task ARepairThatTimesOutOnAHungDatabaseNeitherStopsTheInstanceNorIsLost()
    {
        // The repair after a write re-reads the row from the database. Here the database hangs
        // (SIGSTOP) when the repair runs, so it fails with the data tier's operation timeout; the
        // instance must keep running, and the repair must still happen once the database answers.
        // The row is changed directly in the database right after the write: the cache then holds
        // an older row than the database, which is what a read racing the write can leave behind.
        var repairDelay = TimeSpan.FromSeconds(1);
        await using var database = await MariaDbServer.StartAsync();
        var customers = await database.CreateDatabaseAsync();
        await using var app = CacheInstance.Start(CacheInstance.RedisSettings(customers, servers.Redis.ConnectionString,
            ("Cache:RepairDelay", "00:00:01"), ("Database:OperationTimeout", "00:00:00.500"), ("Database:MaxRetries", "0")));
        var lifetime = app.Factory.Services.GetRequiredService<IHostApplicationLifetime>();

        var id = (int)(await app.CreateAsync())["id"]!;
        var written = Stopwatch.StartNew();
        await CustomerRows.SetEmailAsync(customers, id, "changed.behind.the.cache@example.com");
        Assert.True(written.Elapsed < repairDelay, "The direct change must land before the repair runs.");
        database.Pause();
        try
        {
            // The repair runs at 1 s and gives up at 1.5 s; resume well after.
            await Task.Delay(repairDelay + TimeSpan.FromSeconds(1.5) - written.Elapsed);
        }
        finally
        {
            database.Resume();
        }

        Assert.False(lifetime.ApplicationStopping.IsCancellationRequested, "The instance is shutting down after a failed cache repair.");
        var took = await Eventually.WithinAsync(repairDelay + TimeSpan.FromSeconds(3), "the failed repair is retried", async () =>
            (await app.ReadAsync(id)).Email == "changed.behind.the.cache@example.com", TimeSpan.FromMilliseconds(50));
        output.WriteLine($"repaired {took.TotalMilliseconds:0} ms after the database was resumed");
        Assert.Equal(HttpStatusCode.OK, (await app.Client.GetAsync("/health/live")).StatusCode);
    }
}
