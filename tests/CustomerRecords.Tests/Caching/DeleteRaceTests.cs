using System.Globalization;
using System.Net;
using CustomerRecords.Tests.Infrastructure;
using Xunit.Abstractions;

namespace CustomerRecords.Tests.Caching;

/// <summary>
/// Once a DELETE is acknowledged the instance that made it never serves the row again, nor does any other
/// instance once the backplane told it, even when an update of the same customer committed just before the
/// delete and wrote its row into the cache just after it (README "Caching": a deletion outranks every
/// version). The delayed repair is pushed out of the test, so it cannot hide a resurrection.
/// </summary>
[Collection(MariaDbRedisCollection.Name)]
public sealed class DeleteRaceTests(MariaDbRedisFixture servers, ITestOutputHelper output)
{
    private const int Rounds = 40;

    /// <summary>As in <see cref="RedisCacheTests"/>: far above the milliseconds a backplane message takes here.</summary>
    private static readonly TimeSpan BackplaneBound = TimeSpan.FromSeconds(2);

    private static async Task AssertGoneAsync(CacheInstance instance, int id, int round)
    {
        var read = await instance.ReadAsync(id);
        Assert.True(read.Status == HttpStatusCode.NotFound, $"round {round}: customer {id} was served ({read.Status}, version {read.Version}, X-Cache {read.Cache}) after its delete was acknowledged");
    }

    [Theory]
    [InlineData("Memory")]
    [InlineData("Redis")]
    public async Task AfterTheDeleteIsAcknowledgedEveryReadOnEveryInstanceIs404(string mode)
    {
        var settings = CacheInstance.RedisSettings(await servers.CreateDatabaseAsync(), servers.Redis.ConnectionString, ("Cache:RepairDelay", "00:05:00"));
        settings["Cache:Mode"] = mode;
        await using var a = CacheInstance.Start(settings);
        await using var b = mode == "Redis" ? CacheInstance.Start(settings) : null;
        var instances = b is null ? new[] { a } : [a, b];

        if (b is not null)
        {
            // B's backplane subscription is made in the background after it starts: until B has heard one message, the
            // race below would measure its start-up, not the backplane.
            var warm = (int)(await a.CreateAsync())["id"]!;
            await b.ReadAsync(warm);
            Assert.Equal(HttpStatusCode.OK, (await a.PatchEmailAsync(warm, Json.UniqueEmail("warm"))).StatusCode);
            await Eventually.WithinAsync(TimeSpan.FromSeconds(30), "B hears the backplane", async () => (await b.ReadAsync(warm)).Version == 2);
        }

        var updatesBeforeDelete = 0;
        for (var round = 0; round < Rounds; round++)
        {
            var id = (int)(await a.CreateAsync())["id"]!;
            foreach (var instance in instances)
            {
                await instance.ReadAsync(id); // cached everywhere before the race
            }

            var path = string.Create(CultureInfo.InvariantCulture, $"/customers/{id}");
            var other = instances[^1];
            var delete = a.Client.DeleteAsync(path);
            var patch = other.Client.PatchAsync(path, Json.Body(new { email = Json.UniqueEmail("race") }, "application/merge-patch+json"));
            var put = a.Client.PutAsync(path, Json.Body(new { name = "Race Put", email = Json.UniqueEmail("race") }));
            await Task.WhenAll(delete, patch, put);

            Assert.Equal(HttpStatusCode.NoContent, (await delete).StatusCode);
            updatesBeforeDelete += new[] { await patch, await put }.Count(r => r.StatusCode == HttpStatusCode.OK);
            // The instance that deleted: at once.
            await AssertGoneAsync(a, id, round);

            // Another instance hears of the delete through the backplane (README: milliseconds); from then on,
            // whatever write-through or read lost the race to the delete, it never serves the row again.
            if (b is not null)
            {
                await Eventually.WithinAsync(BackplaneBound, $"round {round}: B sees the delete", async () => (await b.ReadAsync(id)).Status == HttpStatusCode.NotFound);
                await Task.Delay(TimeSpan.FromMilliseconds(100));
                await AssertGoneAsync(b, id, round);
                await AssertGoneAsync(a, id, round);
            }
        }

        output.WriteLine($"{mode}: {Rounds} rounds, {updatesBeforeDelete} updates committed before their delete, 0 reads served the deleted row");
    }
}
