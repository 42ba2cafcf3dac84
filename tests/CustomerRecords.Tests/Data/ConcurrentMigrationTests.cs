using System.Data.Common;
using System.Diagnostics;
using System.Net;
using CustomerRecords.Api.Data;
using CustomerRecords.Tests.Infrastructure;
using CustomerRecords.Tests.Redaction;
using Microsoft.Extensions.Logging;
using static CustomerRecords.Tests.Data.MigrationSql;

namespace CustomerRecords.Tests.Data;

/// <summary>
/// Two instances of the service starting at the same moment on one database (a rolling deploy, two replicas
/// scheduled together) take turns migrating it: both start, each migration is applied and recorded once, nothing
/// is logged as an error, and the schema is the one a single instance makes.
/// </summary>
public abstract class ConcurrentMigrationTests : MigrationSuite
{
    /// <summary>Each case is raced this many times, on a new database each time, to give a race its chances.</summary>
    private const int Rounds = 3;

    private const int PreviousSchema = 4;

    private protected ConcurrentMigrationTests(MigrationDatabases databases)
        : base(databases)
    {
    }

    [Fact]
    public Task TwoInstancesStartingTogetherOnAnEmptyDatabaseMigrateItOnce() => RaceAsync(previousSchema: false);

    [Fact]
    public Task TwoInstancesStartingTogetherOnAVersion4DatabaseUpgradeItOnce() => RaceAsync(previousSchema: true);

    private async Task RaceAsync(bool previousSchema)
    {
        // The reference: one instance alone on an empty database.
        var (referenceSettings, referenceConnect) = await CreateDatabaseAsync();
        var alone = new LogCapture();
        await StartAsync(referenceSettings, alone, Task.CompletedTask);
        List<string> referenceSchema;
        long referenceCustomers;
        await using (var connection = referenceConnect())
        {
            await connection.OpenAsync();
            referenceSchema = await SchemaAsync(connection, Dialect);
            referenceCustomers = await ScalarAsync(connection, "SELECT COUNT(*) FROM customers");
        }

        var all = Migrator.LoadScripts(Dialect).Select(s => s.Version).ToList();
        Assert.Equal(all, MigrationUpgradeTests.AppliedVersions(alone));

        for (var round = 1; round <= Rounds; round++)
        {
            var (settings, connect) = await CreateDatabaseAsync();
            if (previousSchema)
            {
                await using var connection = connect();
                await connection.OpenAsync();
                await ApplyAsync(connection, Dialect, Migrator.LoadScripts(Dialect).Where(s => s.Version <= PreviousSchema));
                await InsertCustomerAsync(connection, "Raced Upgrade", "Raced.Upgrade@example.com", new DateTime(2026, 10, 5, 12, 0, 0, DateTimeKind.Utc), version: 3);
            }

            var logs = new[] { new LogCapture(), new LogCapture() };
            var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var starts = logs.Select(log => Task.Run(() => StartAsync(settings, log, go.Task))).ToArray();
            go.SetResult();
            var spans = await Task.WhenAll(starts);

            // Both were starting at once: neither finished before the other began.
            Assert.True(spans.Max(s => s.Began) < spans.Min(s => s.Ended), $"round {round}: the two starts did not overlap");
            foreach (var log in logs)
            {
                Assert.DoesNotContain(log.Entries, e => e.Level >= LogLevel.Error);
            }

            // Each pending migration applied by exactly one of the two.
            var expected = previousSchema ? all.Where(v => v > PreviousSchema).ToList() : all;
            Assert.Equal(expected, logs.SelectMany(MigrationUpgradeTests.AppliedVersions).Order());
            Assert.DoesNotContain(logs.SelectMany(l => l.Entries), e => e.EventId.Id == 1003);

            await using var check = connect();
            await check.OpenAsync();
            Assert.Equal(all, await VersionsAsync(check));
            Assert.Equal(referenceSchema, await SchemaAsync(check, Dialect));
            Assert.Equal(previousSchema ? 1 : referenceCustomers, await ScalarAsync(check, "SELECT COUNT(*) FROM customers"));
            Assert.Equal(1L, await ScalarAsync(check, "SELECT COUNT(*) FROM feed_state"));
        }
    }

    /// <summary>Starts the service on <paramref name="settings"/> once <paramref name="go"/> completes; returns when it is ready.</summary>
    private static async Task<(long Began, long Ended)> StartAsync(Dictionary<string, string?> settings, LogCapture logs, Task go)
    {
        await go;
        var began = Stopwatch.GetTimestamp();
        await using var factory = new CustomerApiFactory(settings);
        await using var app = MigrationUpgradeTests.WithLogs(factory, logs);
        using var client = app.CreateClient();
        var ended = Stopwatch.GetTimestamp();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri("/health/ready", UriKind.Relative))).StatusCode);
        return (began, ended);
    }
}

public sealed class SqliteConcurrentMigrationTests() : ConcurrentMigrationTests(new SqliteMigrationDatabases());

[Collection(MariaDbCollection.Name)]
public sealed class MariaDbConcurrentMigrationTests(MariaDbFixture mariaDb) : ConcurrentMigrationTests(new MariaDbMigrationDatabases(mariaDb));
