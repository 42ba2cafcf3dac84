using System.Diagnostics;
using System.Globalization;
using System.Net;
using CustomerRecords.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace CustomerRecords.Tests.Caching;

/// <summary>
/// After any kind of Redis fault, every instance — the two that were running and a third started
/// after the fault — serves the last acknowledged write of every id within 10 s of Redis answering
/// again, with no restart (README "Caching"). The delayed per-write repair is pushed out of the test
/// (5 min), so only the recovery can make the instances converge.
/// </summary>
[Collection(MariaDbRedisCollection.Name)]
public sealed class RedisFaultConvergenceTests(MariaDbRedisFixture servers, ITestOutputHelper output)
{
    private const int Customers = 8;

    /// <summary>The README's promise.</summary>
    private static readonly TimeSpan Convergence = TimeSpan.FromSeconds(10);

    public enum Fault
    {
        /// <summary>SIGSTOP for a few seconds while the writes are made, then SIGCONT.</summary>
        Hang,

        /// <summary>SIGKILL, the writes made while it is down, then a start with no data.</summary>
        RestartEmpty,

        /// <summary>A snapshot (SAVE), the writes made with Redis up, then SIGKILL and a start that loads the older snapshot.</summary>
        RestartFromOlderSnapshot,
    }

    [Theory]
    [InlineData(Fault.Hang)]
    [InlineData(Fault.RestartEmpty)]
    [InlineData(Fault.RestartFromOlderSnapshot)]
    public async Task EveryInstanceServesTheLastAcknowledgedWriteWithinTenSecondsOfRedisReturning(Fault fault)
    {
        await using var redis = await RedisServer.StartAsync();
        var settings = CacheInstance.RedisSettings(await servers.CreateDatabaseAsync(), redis.ConnectionString, ("Cache:RepairDelay", "00:05:00"));
        await using var a = CacheInstance.Start(settings);
        await using var b = CacheInstance.Start(settings);

        // Every id cached at version 1 in Redis and in both instances' memory.
        var ids = new List<int>();
        for (var i = 0; i < Customers; i++)
        {
            ids.Add((int)(await a.CreateAsync())["id"]!);
        }

        foreach (var id in ids)
        {
            Assert.Equal("hit", (await a.ReadAsync(id)).Cache);
            await b.ReadAsync(id);
            Assert.Equal((1, "hit"), ((await b.ReadAsync(id)).Version ?? 0, (await b.ReadAsync(id)).Cache));
        }

        var acknowledged = new Dictionary<int, int>();
        async Task WriteAllAsync()
        {
            // Half through A, half through B: each instance must repair its own writes.
            var writes = ids.Select(async (id, n) =>
            {
                var writer = n % 2 == 0 ? a : b;
                using var response = await writer.PatchEmailAsync(id, Json.UniqueEmail("fault"));
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                var version = (int)(await response.ReadObjectAsync())["version"]!;
                lock (acknowledged)
                {
                    acknowledged[id] = version;
                }
            });
            await Task.WhenAll(writes);
        }

        var clock = Stopwatch.StartNew();
        switch (fault)
        {
            case Fault.Hang:
                redis.Pause();
                await WriteAllAsync();
                await Task.Delay(TimeSpan.FromSeconds(3));
                redis.Resume();
                break;
            case Fault.RestartEmpty:
                await redis.KillAsync();
                await WriteAllAsync();
                await redis.StartAgainAsync();
                break;
            case Fault.RestartFromOlderSnapshot:
                await using (var admin = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString + ",allowAdmin=true"))
                {
                    // SAVE (foreground) so that the snapshot is complete before the writes start.
                    await admin.GetDatabase().ExecuteAsync("SAVE");
                }

                await WriteAllAsync();
                await redis.KillAsync();
                await redis.StartAgainAsync();
                break;
        }

        var back = clock.Elapsed;
        output.WriteLine($"{fault}: writes acknowledged and Redis back after {back.TotalSeconds:0.0} s");
        await using var c = CacheInstance.Start(settings);

        var slowest = TimeSpan.Zero;
        foreach (var (name, instance) in new[] { ("A", a), ("B", b), ("C", c) })
        {
            foreach (var id in ids)
            {
                var took = await Eventually.WithinAsync(
                    Convergence - (clock.Elapsed - back),
                    string.Create(CultureInfo.InvariantCulture, $"{fault}: {name} serves version {acknowledged[id]} of customer {id}"),
                    async () => (await instance.ReadAsync(id)).Version == acknowledged[id],
                    TimeSpan.FromMilliseconds(50));
                slowest = clock.Elapsed - back;
            }
        }

        output.WriteLine($"{fault}: every instance served every last write {slowest.TotalSeconds:0.00} s after Redis was back");

        // A conditional write with the ETag just read succeeds on every instance (one id each: another
        // instance's write reaches this one's memory through the backplane, eventually, not at once).
        foreach (var (instance, id) in new[] { a, b, c }.Zip(ids))
        {
            var read = await instance.ReadAsync(id);
            using var request = new HttpRequestMessage(HttpMethod.Patch, $"/customers/{id}") { Content = Json.Body(new { phone = "+1 555 0100" }, "application/merge-patch+json") };
            request.Headers.IfMatch.Add(read.ETag!);
            using var response = await instance.Client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }
}
