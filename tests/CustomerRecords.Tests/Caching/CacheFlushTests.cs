using System.Globalization;
using System.Net;
using CustomerRecords.Tests.Cli;
using CustomerRecords.Tests.Data;
using CustomerRecords.Tests.Infrastructure;
using MySqlConnector;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace CustomerRecords.Tests.Caching;

/// <summary>
/// A database restored to an older copy under a warm Redis cache: without a flush the restarted instances serve
/// the newer rows Redis still holds; with <c>Cache:FlushOnStart</c> (flushed once for instances starting together)
/// or the <c>flush-cache</c> command, every read answers the restored row.
/// </summary>
[Collection(MariaDbRedisCollection.Name)]
public sealed class CacheFlushTests(MariaDbRedisFixture servers, ITestOutputHelper output)
{
    private const int Rows = 8;

    [Fact]
    public async Task AfterARestoreFlushOnStartServesTheRestoredRowsAndWithoutItRedisServesNewerOnes()
    {
        var customers = await servers.CreateDatabaseAsync();
        var settings = CacheInstance.RedisSettings(customers, servers.Redis.ConnectionString, ("Cache:RepairDelay", "00:05:00"));
        var ids = await WarmThenRestoreAsync(customers, settings);

        // Without a flush: restarted instances (empty memory) find the newer rows in Redis and serve them.
        await using (var a = CacheInstance.Start(settings))
        await using (var b = CacheInstance.Start(settings))
        {
            var stale = 0;
            foreach (var id in ids)
            {
                foreach (var instance in new[] { a, b })
                {
                    var read = await instance.ReadAsync(id);
                    stale += read.Version == 2 ? 1 : 0;
                }
            }

            output.WriteLine($"no flush: {stale} of {2 * ids.Count} reads served the pre-restore (newer) row from Redis");
            Assert.Equal(2 * ids.Count, stale);
        }

        // With Cache:FlushOnStart, two instances starting together: one flush, then only restored rows.
        var flushing = new Dictionary<string, string?>(settings) { ["Cache:FlushOnStart"] = "true" };
        var started = await Task.WhenAll(Task.Run(() => CacheInstance.Start(flushing)), Task.Run(() => CacheInstance.Start(flushing)));
        await using (var a = started[0])
        await using (var b = started[1])
        {
            foreach (var id in ids)
            {
                foreach (var instance in new[] { a, b })
                {
                    var read = await instance.ReadAsync(id);
                    Assert.Equal((HttpStatusCode.OK, 1), (read.Status, read.Version));
                }
            }

            // A third instance starting within the guard does not flush what the first two cached since.
            using var redis = await ConnectionMultiplexer.ConnectAsync(servers.Redis.ConnectionString);
            var key = "v2:" + a.RedisKey(ids[0]);
            Assert.True(await redis.GetDatabase().KeyExistsAsync(key), $"{key} is not in Redis");
            await using var c = CacheInstance.Start(flushing);
            Assert.True(await redis.GetDatabase().KeyExistsAsync(key), "a second start-up flush within the guard deleted the warm cache");
            Assert.Equal(1, (await c.ReadAsync(ids[0])).Version);
        }
    }

    [Fact]
    public async Task TheFlushCacheCommandDeletesTheDeploymentsKeysAndPrintsTheCount()
    {
        var customers = await servers.CreateDatabaseAsync();
        var settings = CacheInstance.RedisSettings(customers, servers.Redis.ConnectionString, ("Cache:RepairDelay", "00:05:00"));
        var ids = await WarmThenRestoreAsync(customers, settings);
        using var redis = await ConnectionMultiplexer.ConnectAsync(servers.Redis.ConnectionString);
        var other = "other-deployment:v1:customer:1";
        await redis.GetDatabase().StringSetAsync(other, "kept", TimeSpan.FromMinutes(5));

        using var directory = new TempDirectory();
        var run = await ServiceBinary.RunAsync(directory.Path, [ServiceBinary.AsDeployed, "flush-cache", .. settings.Where(s => s.Value is not null).Select(s => $"--{s.Key}={s.Value}")]);
        output.WriteLine(run.ToString());

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(string.Create(CultureInfo.InvariantCulture, $"Flushed {ids.Count} cache entries"), run.Out.Trim().Split('\n')[^1].Trim());
        Assert.True(await redis.GetDatabase().KeyExistsAsync(other), "another deployment's key was flushed");
        await using var a = CacheInstance.Start(settings);
        foreach (var id in ids)
        {
            Assert.Equal(1, (await a.ReadAsync(id)).Version);
        }
    }

    /// <summary>Rows at version 1, snapshotted; updated to version 2 and read through two instances (Redis holds version 2); then the snapshot restored.</summary>
    private static async Task<IReadOnlyList<int>> WarmThenRestoreAsync(string customers, IReadOnlyDictionary<string, string?> settings)
    {
        IReadOnlyList<int> ids;
        await using (var a = CacheInstance.Start(settings))
        await using (var b = CacheInstance.Start(settings))
        {
            ids = await CustomerRows.InsertAsync(customers, Rows);
            await ExecuteAsync(customers, "CREATE TABLE customers_snapshot AS SELECT * FROM customers");
            foreach (var id in ids)
            {
                var patched = await a.Client.PatchAsync(
                    string.Create(CultureInfo.InvariantCulture, $"/customers/{id}"),
                    Json.Body(new { name = "After the backup" }, "application/merge-patch+json"));
                Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
                Assert.Equal(2, (await a.ReadAsync(id)).Version);
                Assert.Equal(2, (await b.ReadAsync(id)).Version);
            }
        }

        // The restore: the database goes back to the snapshot, under the cache.
        await ExecuteAsync(customers, """
            UPDATE customers c JOIN customers_snapshot s ON s.id = c.id
            SET c.name = s.name, c.name_key = s.name_key, c.email = s.email, c.email_key = s.email_key,
                c.phone = s.phone, c.version = s.version, c.updated_at = s.updated_at
            """);
        return ids;
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = FaultHost.Open(connectionString);
        await using var command = new MySqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
