using System.Net;
using System.Text;
using CustomerRecords.Api.Bulk;
using CustomerRecords.Api.Customers;
using CustomerRecords.Tests.Caching;
using CustomerRecords.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace CustomerRecords.Tests.Bulk;

/// <summary>An update-import on MariaDB under Redis: no instance keeps serving the customer as it was before.</summary>
[Collection(MariaDbRedisCollection.Name)]
public sealed class ImportCacheTests(MariaDbRedisFixture servers)
{
    private static Task<ImportSummary> ImportAsync(CacheInstance instance, string csv, ImportConflict onConflict) =>
        instance.Factory.Services.GetRequiredService<CustomerImporter>().RunAsync(
            CustomerFileReader.ReadAsync(new MemoryStream(Encoding.UTF8.GetBytes(csv)), CustomerFileFormat.Csv, default),
            new ImportOptions(onConflict),
            new ChangeContext("cli:import", null),
            _ => { },
            _ => { },
            TimeProvider.System,
            default);

    [Fact]
    public async Task AfterAnUpdateImportEveryInstanceServesTheNewVersion()
    {
        var settings = CacheInstance.RedisSettings(await servers.CreateDatabaseAsync(), servers.Redis.ConnectionString);
        await using var importer = CacheInstance.Start(settings);
        await using var other = CacheInstance.Start(settings);
        await ImportAsync(importer, "id,name,email\n77,Before,cached@example.org\n", ImportConflict.Skip);

        // Both instances hold version 1 in memory (and Redis has it).
        foreach (var instance in new[] { importer, other })
        {
            Assert.Equal(1, (await instance.ReadAsync(77)).Version);
            var again = await instance.ReadAsync(77);
            Assert.Equal((HttpStatusCode.OK, "hit", 1), (again.Status, again.Cache, again.Version));
        }

        var summary = await ImportAsync(importer, "id,name,email\n77,After,cached@example.org\n", ImportConflict.Update);
        Assert.Equal(1, summary.Updated);

        Assert.Equal(2, (await importer.ReadAsync(77)).Version);
        await Eventually.WithinAsync(TimeSpan.FromSeconds(30), "the other instance serves version 2", async () => (await other.ReadAsync(77)).Version == 2);

        // A fresh instance (empty memory) reads Redis: the new version, not the old one.
        await using var fresh = CacheInstance.Start(settings);
        Assert.Equal(2, (await fresh.ReadAsync(77)).Version);
    }
}
