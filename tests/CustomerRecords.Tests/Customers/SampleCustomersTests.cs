using CustomerRecords.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace CustomerRecords.Tests.Customers;

/// <summary>
/// The original app's three sample customers go only where they are wanted: the embedded SQLite default and
/// Development, or wherever <c>Database:SeedSampleData=true</c> says so — never by default against MySQL.
/// </summary>
[Collection(MariaDbCollection.Name)]
public sealed class SampleCustomersTests(MariaDbFixture mariaDb)
{
    [Fact]
    public async Task TheEmbeddedSqliteDefaultGetsTheSamples() =>
        Assert.Equal(3, await CountAsync(new CustomerApiFactory(CustomerApiFactory.SqliteSettings(TempDirectory.ForRun()))));

    [Fact]
    public async Task ANewMySqlDatabaseGetsNoSamplesByDefault() =>
        Assert.Equal(0, await CountAsync(new CustomerApiFactory(CustomerApiFactory.MySqlSettings(await mariaDb.CreateDatabaseAsync()))));

    [Fact]
    public async Task ANewMySqlDatabaseInDevelopmentGetsTheSamples()
    {
        await using var factory = new CustomerApiFactory(CustomerApiFactory.MySqlSettings(await mariaDb.CreateDatabaseAsync()));
        Assert.Equal(3, await CountAsync(factory.WithWebHostBuilder(b => b.UseEnvironment("Development"))));
    }

    [Fact]
    public async Task TheSettingWinsOverTheDefaultEitherWay()
    {
        var mysql = CustomerApiFactory.MySqlSettings(await mariaDb.CreateDatabaseAsync());
        mysql["Database:SeedSampleData"] = "true";
        var sqlite = CustomerApiFactory.SqliteSettings(TempDirectory.ForRun());
        sqlite["Database:SeedSampleData"] = "false";

        Assert.Equal(3, await CountAsync(new CustomerApiFactory(mysql)));
        Assert.Equal(0, await CountAsync(new CustomerApiFactory(sqlite)));
    }

    private static async Task<int> CountAsync(WebApplicationFactory<Program> factory)
    {
        await using (factory)
        {
            using var client = factory.CreateClient();
            var page = await (await client.GetAsync(new Uri("/customers", UriKind.Relative))).ReadObjectAsync();
            return page["items"]!.AsArray().Count;
        }
    }
}
