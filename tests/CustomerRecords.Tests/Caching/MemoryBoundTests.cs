using System.Net;
using CustomerRecords.Tests.Infrastructure;

namespace CustomerRecords.Tests.Caching;

/// <summary>Write-through caches every created customer; Cache:MemoryMaxEntries keeps an instance's memory bounded anyway.</summary>
public sealed class MemoryBoundTests
{
    private static async Task<int> CreateThenCountMissesAsync(int? maxEntries, int customers)
    {
        var settings = CustomerApiFactory.SqliteSettings(TempDirectory.ForRun());
        settings["Database:SeedSampleData"] = "false";
        if (maxEntries is { } max)
        {
            settings["Cache:MemoryMaxEntries"] = max.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        await using var factory = new CustomerApiFactory(settings);
        using var client = factory.CreateClient();
        var ids = new List<int>();
        for (var i = 0; i < customers; i++)
        {
            var created = await client.PostAsync("/customers", Json.Body(new { name = $"Bound {i}", email = Json.UniqueEmail("bound") }));
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            ids.Add((int)(await created.ReadObjectAsync())["id"]!);
        }

        var misses = 0;
        foreach (var id in ids)
        {
            var read = await client.GetAsync($"/customers/{id}");
            Assert.Equal(HttpStatusCode.OK, read.StatusCode);
            misses += read.Headers.GetValues("X-Cache").Single() == "miss" ? 1 : 0;
        }

        return misses;
    }

    [Fact]
    public async Task AnInstanceKeepsNoMoreCustomersInMemoryThanItsBound()
    {
        // 300 written through with room for 100: at least 200 are not in memory when read back.
        Assert.True(await CreateThenCountMissesAsync(maxEntries: 100, customers: 300) >= 200);
    }

    [Fact]
    public async Task WithinTheBoundEveryWrittenCustomerIsServedFromMemory()
    {
        Assert.Equal(0, await CreateThenCountMissesAsync(maxEntries: null, customers: 300));
    }
}
