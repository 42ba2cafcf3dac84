using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using CustomerRecords.Api.Caching;
using CustomerRecords.Tests.Infrastructure;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;

namespace CustomerRecords.Tests.Caching;

/// <summary>
/// <see cref="MemcachedClient"/> and <see cref="MemcachedDistributedCache"/> against real memcached servers
/// (each test its own, so kills and pauses touch nothing else).
/// </summary>
public sealed class MemcachedClientTests(ITestOutputHelper output)
{
    /// <summary>The client's timeout where what is tested is not the timeout: generous, so a loaded machine is not taken for a fault.</summary>
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    /// <summary>The timeout the hung-server test measures.</summary>
    private static readonly TimeSpan HungTimeout = TimeSpan.FromMilliseconds(500);

    [Fact]
    public async Task GetsSetAddCasAndDeleteBehaveAsMemcachedDefinesThem()
    {
        await using var server = await MemcachedServer.StartAsync();
        await using var client = Client(server);

        Assert.Null(await client.GetsAsync("k"));
        Assert.Equal(MemcachedStoreResult.Stored, await client.AddAsync("k", 5, null, "one"u8.ToArray()));
        Assert.Equal(MemcachedStoreResult.NotStored, await client.AddAsync("k", 5, null, "two"u8.ToArray()));
        var first = await client.GetsAsync("k");
        Assert.Equal(("one", 5u), (Encoding.ASCII.GetString(first!.Value), first.Flags));

        // Another writer in between: the cas with the older token is refused.
        Assert.Equal(MemcachedStoreResult.Stored, await client.SetAsync("k", 6, null, "three"u8.ToArray()));
        Assert.Equal(MemcachedStoreResult.Exists, await client.CasAsync("k", 7, null, "four"u8.ToArray(), first.Cas));
        var second = await client.GetsAsync("k");
        Assert.Equal("three", Encoding.ASCII.GetString(second!.Value));
        Assert.Equal(MemcachedStoreResult.Stored, await client.CasAsync("k", 7, null, "four"u8.ToArray(), second.Cas));
        Assert.Equal(("four", 7u), (Encoding.ASCII.GetString((await client.GetsAsync("k"))!.Value), (await client.GetsAsync("k"))!.Flags));

        Assert.True(await client.DeleteAsync("k"));
        Assert.False(await client.DeleteAsync("k"));
        Assert.Equal(MemcachedStoreResult.NotFound, await client.CasAsync("k", 0, null, "five"u8.ToArray(), second.Cas));
    }

    [Fact]
    public async Task ARelativeExpiryEndsTheItemAndOneBeyondThirtyDaysIsSentAsAnAbsoluteTime()
    {
        await using var server = await MemcachedServer.StartAsync();
        await using var client = Client(server);

        await client.SetAsync("short", 0, TimeSpan.FromSeconds(1), "x"u8.ToArray());
        await client.SetAsync("long", 0, TimeSpan.FromDays(31), "y"u8.ToArray());
        Assert.NotNull(await client.GetsAsync("short"));
        var gone = await Eventually.WithinAsync(TimeSpan.FromSeconds(5), "a 1 s item expires", async () => await client.GetsAsync("short") is null, TimeSpan.FromMilliseconds(100));
        output.WriteLine($"a 1 s item was gone after {gone.TotalMilliseconds:0} ms");

        // Sent as 2,678,400 relative seconds, memcached would read a time in 1970 and drop it at once.
        Assert.NotNull(await client.GetsAsync("long"));
    }

    [Fact]
    public async Task LongOrOddKeysAndValuesUpToTheItemLimitRoundTrip()
    {
        await using var server = await MemcachedServer.StartAsync();
        await using var client = Client(server);
        var keys = new[] { new string('k', 600), "with spaces and\ttabs", "naïve-ключ" };

        foreach (var key in keys)
        {
            await client.SetAsync(key, 0, null, Encoding.UTF8.GetBytes(key));
        }

        foreach (var key in keys)
        {
            Assert.Equal(key, Encoding.UTF8.GetString((await client.GetsAsync(key))!.Value));
        }

        var big = new byte[MemcachedConnection.MaxValueBytes];
        Random.Shared.NextBytes(big);
        Assert.Equal(MemcachedStoreResult.Stored, await client.SetAsync(new string('b', 250), 0, null, big));
        Assert.Equal(big, (await client.GetsAsync(new string('b', 250)))!.Value);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => client.SetAsync("too-big", 0, null, new byte[MemcachedConnection.MaxValueBytes + 1]));
        Assert.True(client.IsAvailable); // a refused value is not a server fault
    }

    [Fact]
    public async Task KeysAreSpreadOverSeveralServersAndEachIsFoundOnTheServerItWasWrittenTo()
    {
        await using var one = await MemcachedServer.StartAsync();
        await using var two = await MemcachedServer.StartAsync();
        await using var client = new MemcachedClient(
            [new DnsEndPoint(one.Host, one.Port), new DnsEndPoint(two.Host, two.Port)], 4, Timeout, TimeProvider.System, NullLogger<MemcachedClient>.Instance);
        var keys = Enumerable.Range(0, 200).Select(i => $"spread:{i}").ToList();
        foreach (var key in keys)
        {
            await client.SetAsync(key, 0, null, Encoding.ASCII.GetBytes(key));
        }

        var onOne = 0;
        foreach (var key in keys)
        {
            var index = MemcachedClient.ServerIndex(key, 2);
            var (holder, other) = index == 0 ? (one, two) : (two, one);
            Assert.StartsWith("VALUE ", await holder.CommandAsync("get " + key, Timeout), StringComparison.Ordinal);
            Assert.Equal("END", await other.CommandAsync("get " + key, Timeout));
            onOne += index == 0 ? 1 : 0;
            Assert.Equal(key, Encoding.ASCII.GetString((await client.GetsAsync(key))!.Value));
        }

        output.WriteLine($"{onOne} of {keys.Count} keys on the first server");
        Assert.InRange(onOne, 60, 140);
    }

    [Fact]
    public async Task ThePoolNeverOpensMoreConnectionsThanItsSize()
    {
        await using var server = await MemcachedServer.StartAsync();
        await using var client = new MemcachedClient([new DnsEndPoint(server.Host, server.Port)], 3, TimeSpan.FromSeconds(10), TimeProvider.System, NullLogger<MemcachedClient>.Instance);
        var before = await TotalConnectionsAsync(server);

        await Task.WhenAll(Enumerable.Range(0, 200).Select(i => client.SetAsync($"pool:{i}", 0, null, new byte[2000])));
        await Task.WhenAll(Enumerable.Range(0, 200).Select(i => client.GetsAsync($"pool:{i}")));

        // The second probe's own connection counts too.
        var opened = await TotalConnectionsAsync(server) - before - 1;
        output.WriteLine($"400 concurrent operations over a pool of 3 opened {opened} connections");
        Assert.InRange(opened, 1, 3);
    }

    [Fact]
    public async Task AfterTheServerWasKilledAndStartedAgainNoBrokenConnectionIsReused()
    {
        await using var server = await MemcachedServer.StartAsync();
        await using var client = Client(server);
        var faults = 0;
        client.Faulted += () => Interlocked.Increment(ref faults);

        // Four connections in the pool.
        await Task.WhenAll(Enumerable.Range(0, 4).Select(i => client.SetAsync($"r:{i}", 0, null, "v"u8.ToArray())));
        Assert.True(client.IsAvailable);

        await server.KillAsync();
        await Assert.ThrowsAnyAsync<Exception>(() => client.GetsAsync("r:0"));
        await Assert.ThrowsAnyAsync<Exception>(() => client.GetsAsync("r:0")); // refused: nothing listens
        Assert.False(client.IsAvailable);
        Assert.True(faults >= 2);

        await server.StartAgainAsync();

        // Every idle connection died with the server; the first failure closed them all.
        for (var i = 0; i < 8; i++)
        {
            Assert.Null(await client.GetsAsync("r:0")); // a restarted memcached is empty
        }

        Assert.True(client.IsAvailable);
    }

    [Fact]
    public async Task AHungServerTimesOutAndTheLateReplyNeverAnswersAnotherCommand()
    {
        // A server that reads the command and withholds its reply until released: hung for certain, no signal to race.
        await using var server = new HeldMemcached(new Dictionary<string, string> { ["a"] = "value of a", ["b"] = "value of b" });
        await using var client = new MemcachedClient([new DnsEndPoint("127.0.0.1", server.Port)], 1, HungTimeout, TimeProvider.System, NullLogger<MemcachedClient>.Instance);
        Assert.Equal("value of a", Encoding.ASCII.GetString((await client.GetsAsync("a"))!.Value));

        server.Hold();
        var clock = Stopwatch.StartNew();
        try
        {
            await Assert.ThrowsAsync<TimeoutException>(() => client.GetsAsync("a"));
            output.WriteLine($"gets on a hung memcached failed after {clock.ElapsedMilliseconds} ms (timeout {HungTimeout.TotalMilliseconds} ms)");
            Assert.Equal("gets a", await server.HeldCommand.WaitAsync(TimeSpan.FromSeconds(30))); // it was sent, and not answered
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5));
            Assert.False(client.IsAvailable);
        }
        finally
        {
            server.Release(); // the late reply to "gets a" goes out on the timed-out connection
        }

        // One connection only: were the timed-out one reused, "gets b" would read the late reply to "gets a".
        Assert.Equal("value of b", Encoding.ASCII.GetString((await client.GetsAsync("b"))!.Value));
        Assert.True(client.IsAvailable);
    }

    [Fact]
    public async Task AServerIdentityChangesWhenTheServerRestarts()
    {
        await using var server = await MemcachedServer.StartAsync();
        await using var client = Client(server);
        var first = await client.IdentityAsync();
        Assert.Equal(first, await client.IdentityAsync());

        await server.KillAsync();
        await server.StartAgainAsync();

        await Assert.ThrowsAnyAsync<Exception>(() => client.IdentityAsync()); // the pooled connection died with it
        Assert.NotEqual(first, await client.IdentityAsync());
    }

    [Fact]
    public async Task AVersionedSetNeverReplacesANewerVersionAndReportsTheRefusal()
    {
        await using var server = await MemcachedServer.StartAsync();
        await using var client = Client(server);
        var rejections = new CacheWriteRejections();
        var cache = new MemcachedDistributedCache(client, rejections, NullLogger<MemcachedDistributedCache>.Instance);
        var options = new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(5) };

        await cache.SetAsync("v2:p:v3:customer:1", Entry(2), options);
        await cache.SetAsync("v2:p:v3:customer:1", Entry(1), options);
        Assert.Equal(2, Version(await cache.GetAsync("v2:p:v3:customer:1")));
        Assert.True(rejections.TryTake("v3:customer:1"));

        await cache.SetAsync("v2:p:v3:customer:1", Entry(2), options); // the same version again: stored (a repair)
        await cache.SetAsync("v2:p:v3:customer:1", Entry(3), options);
        Assert.Equal(3, Version(await cache.GetAsync("v2:p:v3:customer:1")));
        Assert.False(rejections.TryTake("v3:customer:1"));

        // Unversioned values are set unconditionally, as any cache would.
        await cache.SetAsync("v2:p:other", "{\"value\":\"plain\"}"u8.ToArray(), options);
        await cache.SetAsync("v2:p:other", "{\"value\":\"plain again\"}"u8.ToArray(), options);
        Assert.Equal("{\"value\":\"plain again\"}", Encoding.UTF8.GetString((await cache.GetAsync("v2:p:other"))!));

        await cache.RemoveAsync("v2:p:v3:customer:1");
        Assert.Null(await cache.GetAsync("v2:p:v3:customer:1"));
    }

    [Fact]
    public async Task ConcurrentWritersOfShuffledVersionsOnTwoClientsAlwaysLeaveTheNewest()
    {
        await using var server = await MemcachedServer.StartAsync();

        // Two instances: their own pools and their own rejection lists.
        await using var clientA = Client(server);
        await using var clientB = Client(server);
        var rejectedA = new CacheWriteRejections();
        var rejectedB = new CacheWriteRejections();
        var a = new MemcachedDistributedCache(clientA, rejectedA, NullLogger<MemcachedDistributedCache>.Instance);
        var b = new MemcachedDistributedCache(clientB, rejectedB, NullLogger<MemcachedDistributedCache>.Instance);
        var options = new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(5) };
        var stored = new List<int>();

        for (var round = 0; round < 20; round++)
        {
            var key = string.Create(CultureInfo.InvariantCulture, $"v2:p:v3:customer:{round}");
            var versions = Enumerable.Range(1, 40).OrderBy(_ => Random.Shared.Next()).ToList();
            var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var writes = versions.Select(async (version, n) =>
            {
                await gate.Task;
                await (n % 2 == 0 ? a : b).SetAsync(key, Entry(version), options);
            }).ToList();
            gate.SetResult();
            await Task.WhenAll(writes);

            Assert.Equal(40, Version(await a.GetAsync(key)));
            stored.Add(versions.IndexOf(40));
        }

        output.WriteLine("position of the newest version among the 40 concurrent writes, per round: " + string.Join(" ", stored));
    }

    private static MemcachedClient Client(MemcachedServer server) =>
        new([new DnsEndPoint(server.Host, server.Port)], 16, Timeout, TimeProvider.System, NullLogger<MemcachedClient>.Instance);

    /// <summary>A FusionCache-like distributed entry holding a customer at <paramref name="version"/>.</summary>
    private static byte[] Entry(int version) =>
        Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{{\"value\":{{\"version\":{version},\"customer\":null}},\"timestamp\":1}}"));

    private static long? Version(byte[]? entry) => entry is null ? null : VersionedRedisCache.VersionOf(entry);

    private static async Task<long> TotalConnectionsAsync(MemcachedServer server)
    {
        using var raw = new System.Net.Sockets.TcpClient();
        await raw.ConnectAsync(server.Host, server.Port);
        var stream = raw.GetStream();
        await stream.WriteAsync("stats\r\n"u8.ToArray());
        var text = new StringBuilder();
        var buffer = new byte[8192];
        while (!text.ToString().EndsWith("END\r\n", StringComparison.Ordinal))
        {
            var read = await stream.ReadAsync(buffer);
            Assert.NotEqual(0, read);
            text.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }

        var line = text.ToString().Split("\r\n").Single(l => l.StartsWith("STAT total_connections ", StringComparison.Ordinal));
        return long.Parse(line["STAT total_connections ".Length..], CultureInfo.InvariantCulture);
    }
}
