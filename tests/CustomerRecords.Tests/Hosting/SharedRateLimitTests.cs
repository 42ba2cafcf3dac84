using System.Globalization;
using System.Net;
using CustomerRecords.Tests.Caching;
using CustomerRecords.Tests.Infrastructure;
using Xunit.Abstractions;

namespace CustomerRecords.Tests.Hosting;

/// <summary>
/// <c>RateLimit:Store=Redis</c> (the default in <c>Cache:Mode=Redis</c>): two real instances over one Redis share one
/// client's budget; with Redis killed each instance counts on its own (N × the limit, never unlimited, never a 5xx);
/// with Redis back the budget is shared again.
/// </summary>
[Collection(MariaDbRedisCollection.Name)]
public sealed class SharedRateLimitTests(MariaDbRedisFixture servers, ITestOutputHelper output)
{
    private const int Limit = 50;

    /// <summary>Long enough that one burst of requests ends inside one window on a busy machine.</summary>
    private const string Window = "00:00:30";

    /// <summary>Three times the limit: a shared limit allows a third of them, a per-instance one two thirds.</summary>
    private const int Burst = 3 * Limit;

    [Fact]
    public async Task TwoInstancesShareOneLimitFallBackToPerInstanceLimitsWithoutRedisAndShareAgainWhenItReturns()
    {
        await using var redis = await RedisServer.StartAsync();
        var customers = await servers.CreateDatabaseAsync();
        var settings = CacheInstance.RedisSettings(
            customers,
            redis.ConnectionString,
            ("RateLimit:Enabled", "true"),
            ("RateLimit:PermitLimit", Limit.ToString(CultureInfo.InvariantCulture)),
            ("RateLimit:Window", Window));
        await using var a = CacheInstance.Start(settings);
        await using var b = CacheInstance.Start(settings);
        var id = (await CustomerRows.InsertAsync(customers, 1))[0]; // straight into the database (migrated by now): no request spent
        await Eventually.WithinAsync(TimeSpan.FromSeconds(10), "both instances use Redis", async () => await CacheHealthAsync(a) == "Healthy" && await CacheHealthAsync(b) == "Healthy");

        var shared = await BurstAsync(a, b, id);
        output.WriteLine($"Shared (Redis): {shared.Allowed} of {Burst} allowed, limit {Limit} ({(double)shared.Allowed / Limit:0.00} × limit); first 429's Retry-After {shared.RetryAfter}");
        Assert.InRange(shared.Allowed, Limit * 9 / 10, Limit * 11 / 10);
        Assert.NotNull(shared.RetryAfter);
        Assert.InRange(shared.RetryAfter.Value, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(31));

        await redis.KillAsync();
        await Eventually.WithinAsync(TimeSpan.FromSeconds(10), "both instances notice Redis is gone", async () => await CacheHealthAsync(a) == "Degraded" && await CacheHealthAsync(b) == "Degraded");
        var alone = await BurstAsync(a, b, id);
        output.WriteLine($"Redis killed: {alone.Allowed} of {Burst} allowed ({(double)alone.Allowed / Limit:0.00} × limit, 2 instances)");
        Assert.InRange(alone.Allowed, 2 * Limit * 9 / 10, 2 * Limit * 11 / 10); // per instance: limited, not unlimited
        Assert.NotNull(alone.RetryAfter);

        await redis.StartAgainAsync();
        await Eventually.WithinAsync(TimeSpan.FromSeconds(20), "both instances use Redis again", async () => await CacheHealthAsync(a) == "Healthy" && await CacheHealthAsync(b) == "Healthy", TimeSpan.FromMilliseconds(100));
        var again = await BurstAsync(a, b, id);
        output.WriteLine($"Redis back: {again.Allowed} of {Burst} allowed ({(double)again.Allowed / Limit:0.00} × limit)");
        Assert.InRange(again.Allowed, Limit * 9 / 10, Limit * 11 / 10);
    }

    [Fact]
    public async Task WithRedisHungRequestsAreLimitedPerInstanceAndNoneFails()
    {
        await using var redis = await RedisServer.StartAsync();
        var customers = await servers.CreateDatabaseAsync();
        var settings = CacheInstance.RedisSettings(
            customers,
            redis.ConnectionString,
            ("RateLimit:Enabled", "true"),
            ("RateLimit:PermitLimit", Limit.ToString(CultureInfo.InvariantCulture)),
            ("RateLimit:Window", Window));
        await using var a = CacheInstance.Start(settings);
        await using var b = CacheInstance.Start(settings);
        var id = (await CustomerRows.InsertAsync(customers, 1))[0];
        await Eventually.WithinAsync(TimeSpan.FromSeconds(10), "both instances use Redis", async () => await CacheHealthAsync(a) == "Healthy" && await CacheHealthAsync(b) == "Healthy");

        // SIGSTOP: the connection stays up, commands time out; the limiter counts locally instead.
        redis.Pause();
        try
        {
            var hung = await BurstAsync(a, b, id);
            output.WriteLine($"Redis hung: {hung.Allowed} of {Burst} allowed ({(double)hung.Allowed / Limit:0.00} × limit, 2 instances)");
            Assert.InRange(hung.Allowed, 2 * Limit * 9 / 10, 2 * Limit * 11 / 10);
        }
        finally
        {
            redis.Resume();
        }
    }

    /// <summary>Sends <see cref="Burst"/> reads of one customer alternately to both instances; every answer is 200 or 429.</summary>
    private static async Task<(int Allowed, TimeSpan? RetryAfter)> BurstAsync(CacheInstance a, CacheInstance b, int id)
    {
        var allowed = 0;
        TimeSpan? retryAfter = null;
        var path = string.Create(CultureInfo.InvariantCulture, $"/customers/{id}");
        for (var i = 0; i < Burst; i++)
        {
            using var response = await (i % 2 == 0 ? a : b).Client.GetAsync(path);
            Assert.True(
                response.StatusCode is HttpStatusCode.OK or HttpStatusCode.TooManyRequests,
                $"request {i} answered {(int)response.StatusCode}");
            if (response.StatusCode == HttpStatusCode.OK)
            {
                allowed++;
            }
            else
            {
                retryAfter ??= response.Headers.RetryAfter?.Delta;
            }
        }

        return (allowed, retryAfter);
    }

    private static async Task<string?> CacheHealthAsync(CacheInstance app)
    {
        using var response = await app.Client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.ReadObjectAsync();
        return (string?)body["checks"]?["cache"]?["status"];
    }
}
