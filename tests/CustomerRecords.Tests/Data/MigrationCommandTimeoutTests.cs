using System.Net;
using CustomerRecords.Api.Data;
using CustomerRecords.Tests.Infrastructure;
using MySqlConnector;
using static CustomerRecords.Tests.Data.MigrationSql;

namespace CustomerRecords.Tests.Data;

/// <summary>
/// A migration runs as long as it needs: the request path's command timeout (5 s by default on MySQL, 1 s here)
/// does not cancel it. 0009 rebuilds customers (about 10 s at a million rows on 2 cores); cancelled at the timeout it
/// rolled back and left the schema at 8 on every start.
/// </summary>
[Collection(MariaDbCollection.Name)]
public sealed class MariaDbMigrationCommandTimeoutTests(MariaDbFixture mariaDb)
{
    [Fact]
    public async Task AMigrationLongerThanTheCommandTimeoutCompletes()
    {
        var connectionString = await mariaDb.CreateDatabaseAsync();
        var settings = CustomerApiFactory.MySqlSettings(connectionString + ";Default Command Timeout=1");
        await using (var setup = new MySqlConnection(connectionString))
        {
            await setup.OpenAsync();
            await ApplyAsync(setup, SqlDialect.MySql, Migrator.LoadScripts(SqlDialect.MySql).Where(s => s.Version <= 8));
            await InsertCustomerAsync(setup, "Long Migration", "long.migration@example.com", DateTime.UtcNow, phone: "+1 (555) 010-2000");
        }

        // An open transaction that has read customers holds its metadata lock: 0009's ALTER TABLE waits for it.
        // Once the ALTER is seen waiting, the transaction stays open 3 s more, three times the command timeout.
        await using var reader = new MySqlConnection(connectionString);
        await reader.OpenAsync();
        await using var transaction = await reader.BeginTransactionAsync();
        await using (var read = new MySqlCommand("SELECT COUNT(*) FROM customers", reader, transaction))
        {
            await read.ExecuteScalarAsync();
        }

        var release = Task.Run(async () =>
        {
            await using var watcher = new MySqlConnection(connectionString);
            await watcher.OpenAsync();
            var waited = 0L;
            for (var i = 0; i < 600 && waited == 0; i++)
            {
                await Task.Delay(100);
                waited = await ScalarAsync(watcher,
                    "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND STATE = 'Waiting for table metadata lock'");
            }

            await Task.Delay(TimeSpan.FromSeconds(3));
            await transaction.CommitAsync();
            return waited;
        });

        await using var factory = new CustomerApiFactory(settings);
        using var client = factory.CreateClient();
        Assert.Equal(1, await release); // the ALTER did wait on the open transaction
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri("/health/ready", UriKind.Relative))).StatusCode);

        await using var check = new MySqlConnection(connectionString);
        await check.OpenAsync();
        Assert.Contains(9, await VersionsAsync(check));
        Assert.Equal(1, await ScalarAsync(check, "SELECT COUNT(*) FROM customers WHERE phone_key = '15550102000'"));
    }
}
