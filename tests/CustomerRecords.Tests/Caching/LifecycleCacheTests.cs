using System.Globalization;
using System.Net;
using System.Text;
using CustomerRecords.Tests.Infrastructure;
using StackExchange.Redis;

namespace CustomerRecords.Tests.Caching;

/// <summary>
/// Soft delete, restore and erasure through the cache: a delete hides the customer on every instance, a restore
/// (whose version outranks the delete's tombstone) shows it again everywhere, and after an erasure neither any
/// instance nor any key in Redis holds an erased value.
/// </summary>
[Collection(MariaDbRedisCollection.Name)]
public sealed class LifecycleCacheTests(MariaDbRedisFixture servers)
{
    /// <summary>As in <see cref="RedisCacheTests"/>: far above the milliseconds a backplane message takes here.</summary>
    private static readonly TimeSpan BackplaneBound = TimeSpan.FromSeconds(2);

    private static string PathOf(int id, string suffix = "") => string.Create(CultureInfo.InvariantCulture, $"/customers/{id}{suffix}");

    [Theory]
    [InlineData("Memory")]
    [InlineData("Redis")]
    public async Task DeleteHidesAndRestoreShowsTheCustomerOnEveryInstance(string mode)
    {
        var settings = CacheInstance.RedisSettings(await servers.CreateDatabaseAsync(), servers.Redis.ConnectionString, ("Cache:RepairDelay", "00:05:00"));
        settings["Cache:Mode"] = mode;
        await using var a = CacheInstance.Start(settings);
        await using var b = mode == "Redis" ? CacheInstance.Start(settings) : null;
        var instances = b is null ? new[] { a } : [a, b];

        var id = (int)(await a.CreateAsync())["id"]!;
        foreach (var instance in instances)
        {
            Assert.Equal(HttpStatusCode.OK, (await instance.ReadAsync(id)).Status); // cached everywhere
        }

        Assert.Equal(HttpStatusCode.NoContent, (await a.Client.DeleteAsync(PathOf(id))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await a.ReadAsync(id)).Status); // the deleting instance: at once
        foreach (var instance in instances)
        {
            await Eventually.WithinAsync(BackplaneBound, "the delete reaches every instance", async () => (await instance.ReadAsync(id)).Status == HttpStatusCode.NotFound);
        }

        var other = instances[^1];
        using (var restored = await other.Client.PostAsync(PathOf(id, "/restore"), content: null))
        {
            Assert.Equal(HttpStatusCode.OK, restored.StatusCode);
        }

        var back = await other.ReadAsync(id);
        Assert.Equal(HttpStatusCode.OK, back.Status); // the restoring instance: at once
        Assert.Equal(3, back.Version);
        foreach (var instance in instances)
        {
            await Eventually.WithinAsync(BackplaneBound, "the restore reaches every instance", async () => (await instance.ReadAsync(id)) is { Status: HttpStatusCode.OK, Version: 3 });
        }
    }

    [Fact]
    public async Task AfterAnErasureNoInstanceAndNoRedisKeyHoldsTheErasedValues()
    {
        var settings = CacheInstance.RedisSettings(await servers.CreateDatabaseAsync(), servers.Redis.ConnectionString);
        await using var a = CacheInstance.Start(settings);
        await using var b = CacheInstance.Start(settings);
        var email = Json.UniqueEmail("erase-cached");
        var id = (int)(await a.CreateAsync(email))["id"]!;
        Assert.Equal(email, (await b.ReadAsync(id)).Email); // in Redis and in both memories

        await using var redis = await ConnectionMultiplexer.ConnectAsync(servers.Redis.ConnectionString + ",allowAdmin=true");
        var prefix = settings["Cache:KeyPrefix"]!;
        Assert.Contains(email, await DumpAsync(redis, prefix), StringComparison.Ordinal); // the dump sees cached values

        using (var erased = await b.Client.PostAsync(PathOf(id, "/erase"), content: null))
        {
            Assert.Equal(HttpStatusCode.NoContent, erased.StatusCode);
        }

        foreach (var instance in new[] { a, b })
        {
            await Eventually.WithinAsync(BackplaneBound, "the erasure reaches every instance", async () => (await instance.ReadAsync(id)).Status == HttpStatusCode.NotFound);
        }

        var dump = await DumpAsync(redis, prefix);
        Assert.DoesNotContain(email, dump, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("Cached Customer", dump, StringComparison.Ordinal);
    }

    /// <summary>Every key of this test's prefix with every value it holds (strings and hash fields), as text.</summary>
    private static async Task<string> DumpAsync(ConnectionMultiplexer redis, string prefix)
    {
        var server = redis.GetServer(redis.GetEndPoints()[0]);
        var database = redis.GetDatabase();
        var text = new StringBuilder();
        await foreach (var key in server.KeysAsync(pattern: "*" + prefix + "*"))
        {
            text.Append(key).Append(" = ");
            var type = await database.KeyTypeAsync(key);
            if (type == RedisType.Hash)
            {
                foreach (var entry in await database.HashGetAllAsync(key))
                {
                    text.Append(entry.Name).Append(':').Append(Encoding.UTF8.GetString((byte[])entry.Value!)).Append(' ');
                }
            }
            else if (type == RedisType.String)
            {
                text.Append(Encoding.UTF8.GetString((byte[])(await database.StringGetAsync(key))!));
            }

            text.Append('\n');
        }

        return text.ToString();
    }
}
