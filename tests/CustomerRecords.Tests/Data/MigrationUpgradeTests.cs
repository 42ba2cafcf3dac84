using System.Data.Common;
using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using CustomerRecords.Api.Data;
using CustomerRecords.Api.Idempotency;
using CustomerRecords.Tests.Infrastructure;
using CustomerRecords.Tests.Redaction;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Logging;
using static CustomerRecords.Tests.Data.MigrationSql;

namespace CustomerRecords.Tests.Data;

/// <summary>
/// A database made by an earlier version upgrades in place: its rows stay, the new migrations apply once,
/// and an <c>Idempotency-Key</c> answered before the upgrade (recorded as an HTTP status then) still replays.
/// </summary>
public abstract partial class MigrationUpgradeTests : MigrationSuite
{
    private const string Route = "POST /customers";
    private const string Key = "upgrade-key-1";
    private const string StoredCustomer =
        """{"id":1,"name":"Before Upgrade","email":"before.upgrade@example.com","phone":null,"created_at":"2026-11-01T10:00:00Z","updated_at":"2026-11-01T10:00:00Z","version":1}""";

    /// <summary>The schema main had before the customer lifecycle (soft delete, events): migrations 1–4.</summary>
    private const int PreviousSchema = 4;

    private const string OriginalColumns = "id, name, email, phone, created_at, updated_at, version, email_key, name_key";

    private protected MigrationUpgradeTests(MigrationDatabases databases)
        : base(databases)
    {
    }

    [Fact]
    public async Task ADatabaseOfThePreviousSchemaUpgradesAndReplaysItsAnsweredKeys()
    {
        var (settings, connect) = await CreateDatabaseAsync();
        await using (var connection = connect())
        {
            await connection.OpenAsync();
            await ApplyAsync(connection, Dialect, Migrator.LoadScripts(Dialect).Where(s => s.Version <= 2));
            await InsertCustomerAsync(connection, "Before Upgrade", "before.upgrade@example.com", new DateTime(2026, 11, 1, 10, 0, 0, DateTimeKind.Utc));
            await ExecuteAsync(connection, """
                INSERT INTO idempotency_keys (idempotency_key, request_hash, owner, created_at, locked_until, status_code, response_body)
                VALUES (@key, @hash, 'old-owner', @now, @now, 201, @body)
                """,
                ("@key", IdempotencyKeys.StoredKey(Route, "-", Key)),
                ("@hash", IdempotencyKeys.RequestHash(Route, ["Before Upgrade", "before.upgrade@example.com", null])),
                ("@now", DateTime.UtcNow),
                ("@body", StoredCustomer));
        }

        await using var factory = new CustomerApiFactory(settings);
        using var client = factory.CreateClient();
        using var replay = await SendCreateAsync(client, "Before Upgrade", "before.upgrade@example.com", Key);

        Assert.Equal(HttpStatusCode.Created, replay.StatusCode);
        Assert.Equal("true", replay.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal("Before Upgrade", (string?)(await replay.ReadObjectAsync())["name"]);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri("/customers/1", UriKind.Relative))).StatusCode);

        await using var check = connect();
        await check.OpenAsync();
        Assert.Equal(Migrator.LoadScripts(Dialect).Select(s => s.Version), await VersionsAsync(check));
        Assert.Equal(1L, await ScalarAsync(check, "SELECT COUNT(*) FROM customers"));
    }

    /// <summary>
    /// The lifecycle upgrade (5–8) of a version-4 database with live customers, a hard-deleted one (the highest id) and
    /// an answered key: rows kept as they were, 5–8 applied once, the id high-water mark kept, live-only email uniqueness,
    /// the key's customer backfilled and replayed; a second start applies nothing.
    /// </summary>
    [Fact]
    public async Task ADatabaseOfSchemaVersion4UpgradesInPlaceToTheLifecycleSchema()
    {
        var (settings, connect) = await CreateDatabaseAsync();
        var key = $"v4-key-{Guid.NewGuid():N}";
        var storedKey = IdempotencyKeys.StoredKey(Route, "-", key);
        List<object[]> before;
        long highestEver;
        await using (var connection = connect())
        {
            await connection.OpenAsync();
            await ApplyAsync(connection, Dialect, Migrator.LoadScripts(Dialect).Where(s => s.Version <= PreviousSchema));
            var first = new DateTime(2026, 9, 30, 8, 15, 42, DateTimeKind.Utc).AddTicks(1_234_560); // microseconds: DATETIME(6)
            for (var i = 1; i <= 5; i++)
            {
                await InsertCustomerAsync(
                    connection, $"Old Customer {i}", $"Old.Customer{i}@Example.com", first.AddDays(i), version: i,
                    phone: i % 2 == 0 ? null : $"+1-555-010{i}", updatedAt: first.AddDays(i).AddMinutes(i * 7).AddTicks(i * 10));
            }

            highestEver = await ScalarAsync(connection, "SELECT MAX(id) FROM customers");
            Assert.Equal(1, await ExecuteAsync(connection, "DELETE FROM customers WHERE id = @id", ("@id", highestEver)));

            // The key answered a create of customer 2, as version 4 stored it: outcome and the created customer's body.
            var body = $$"""{"id":2,"name":"Old Customer 2","email":"Old.Customer2@Example.com","phone":null,"created_at":"2026-10-02T08:15:42.123456Z","updated_at":"2026-10-02T08:29:42.123458Z","version":2}""";
            await ExecuteAsync(connection, """
                INSERT INTO idempotency_keys (idempotency_key, request_hash, owner, created_at, locked_until, outcome, response_body)
                VALUES (@key, @hash, 'v4-owner', @now, @now, 'created', @body)
                """,
                ("@key", storedKey),
                ("@hash", IdempotencyKeys.RequestHash(Route, ["Old Customer 2", "Old.Customer2@Example.com", null])),
                ("@now", DateTime.UtcNow),
                ("@body", body));
            before = await RowsAsync(connection, $"SELECT {OriginalColumns} FROM customers ORDER BY id");
        }

        Assert.Equal(4, before.Count);
        var logs = new LogCapture();
        await using var factory = new CustomerApiFactory(settings);
        await using var app = WithLogs(factory, logs);
        using var client = app.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri("/health/ready", UriKind.Relative))).StatusCode);
        Assert.Equal([5, 6, 7, 8, 9], AppliedVersions(logs));
        Assert.DoesNotContain(logs.Entries, e => e.Level >= LogLevel.Error);

        List<object[]> migrations;
        await using (var check = connect())
        {
            await check.OpenAsync();
            Assert.Equal(Enumerable.Range(1, 9), await VersionsAsync(check));
            Assert.Equal(Migrator.LoadScripts(Dialect).Select(s => s.Version), await VersionsAsync(check));
            Assert.Equal(before, await RowsAsync(check, $"SELECT {OriginalColumns} FROM customers ORDER BY id"));
            Assert.Equal(0L, await ScalarAsync(check, "SELECT COUNT(*) FROM customers WHERE deleted_at IS NOT NULL"));
            Assert.Equal(0L, await ScalarAsync(check, "SELECT COUNT(*) FROM customer_events"));
            Assert.Equal([[1L, 0L]], (await RowsAsync(check, "SELECT id, last_position FROM feed_state"))
                .Select(r => r.Select(v => Convert.ToInt64(v, CultureInfo.InvariantCulture)).ToArray()));
            Assert.Equal(2L, await ScalarAsync(check, "SELECT customer_id FROM idempotency_keys WHERE idempotency_key = @key", ("@key", storedKey)));
            if (Dialect == SqlDialect.MySql)
            {
                Assert.Equal(0L, await ScalarAsync(check, "SELECT COUNT(*) FROM customers WHERE NOT (live_email_key <=> email_key)"));
            }

            migrations = await RowsAsync(check, "SELECT version, name, applied_at FROM schema_migrations ORDER BY version");
        }

        for (var id = 1; id < highestEver; id++)
        {
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri($"/customers/{id}", UriKind.Relative))).StatusCode);
        }

        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync(new Uri($"/customers/{highestEver}", UriKind.Relative))).StatusCode);

        // 0009 keyed the phones the rows already had (+1-555-0101, +1-555-0103; 5 was deleted before the upgrade).
        var byPhone = await (await client.GetAsync(new Uri("/customers?phone=1555010", UriKind.Relative))).ReadObjectAsync();
        Assert.Equal([1, 3], byPhone["items"]!.AsArray().Select(i => (int)i!["id"]!));

        using (var replay = await SendCreateAsync(client, "Old Customer 2", "Old.Customer2@Example.com", key))
        {
            Assert.Equal(HttpStatusCode.Created, replay.StatusCode);
            Assert.Equal("true", replay.Headers.GetValues("Idempotent-Replayed").Single());
            Assert.Equal(2, (int?)(await replay.ReadObjectAsync())["id"]);
        }

        // A live customer's email, in other letter case: still refused.
        using (var duplicate = await SendCreateAsync(client, "Someone Else", "OLD.CUSTOMER1@example.COM"))
        {
            Assert.Equal(HttpStatusCode.Conflict, duplicate.StatusCode);
            Assert.Equal("urn:customer-records:problem:duplicate-email", (string?)(await duplicate.ReadObjectAsync())["type"]);
        }

        // SQLite rebuilt the table in 0006: without the carried AUTOINCREMENT mark the next id would be the deleted one's.
        using (var created = await SendCreateAsync(client, "After Upgrade", Json.UniqueEmail("after.upgrade")))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            Assert.InRange((long)(await created.ReadObjectAsync())["id"]!, highestEver + 1, long.MaxValue);
        }

        var again = new LogCapture();
        await using (var second = new CustomerApiFactory(settings))
        await using (var secondApp = WithLogs(second, again))
        {
            using var secondClient = secondApp.CreateClient();
            Assert.Equal(HttpStatusCode.OK, (await secondClient.GetAsync(new Uri("/health/ready", UriKind.Relative))).StatusCode);
        }

        Assert.Empty(AppliedVersions(again));
        Assert.DoesNotContain(again.Entries, e => e.EventId.Id == 1003);
        await using var final = connect();
        await final.OpenAsync();
        Assert.Equal(migrations, await RowsAsync(final, "SELECT version, name, applied_at FROM schema_migrations ORDER BY version"));
    }

    [Fact]
    public async Task AColumnAddedBeforeACrashIsRecordedNotAddedAgain()
    {
        // MySQL commits DDL at once: a crash between a script and its record leaves the column without the record.
        var (settings, connect) = await CreateDatabaseAsync();
        await using (var connection = connect())
        {
            await connection.OpenAsync();
            var scripts = Migrator.LoadScripts(Dialect);
            await ApplyAsync(connection, Dialect, scripts.Where(s => s.Version <= 2));
            await ExecuteAsync(connection, scripts.Single(s => s.Version == 3).Sql);
        }

        await using var factory = new CustomerApiFactory(settings);
        using var client = factory.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri("/health/ready", UriKind.Relative))).StatusCode);

        await using var check = connect();
        await check.OpenAsync();
        Assert.Contains(3, await VersionsAsync(check));
    }

    /// <summary>
    /// 0006 (soft delete) is one ALTER TABLE on MySQL, committed at once: a crash before its record leaves the columns
    /// and indexes in place. The next start finds customers.deleted_at, records 6 without running it, and goes on to 7–8.
    /// </summary>
    [Fact]
    public async Task ASoftDeleteAppliedBeforeACrashIsRecordedNotAppliedAgain()
    {
        var (settings, connect) = await CreateDatabaseAsync();
        var scripts = Migrator.LoadScripts(Dialect);
        List<string> crashed;
        await using (var connection = connect())
        {
            await connection.OpenAsync();
            await ApplyAsync(connection, Dialect, scripts.Where(s => s.Version <= 5));
            await InsertCustomerAsync(connection, "Crash Survivor", "crash.survivor@example.com", new DateTime(2026, 11, 2, 9, 0, 0, DateTimeKind.Utc));
            await ExecuteAsync(connection, scripts.Single(s => s.Version == 6).Sql);
            crashed = await SchemaAsync(connection, Dialect);
        }

        var logs = new LogCapture();
        await using var factory = new CustomerApiFactory(settings);
        await using var app = WithLogs(factory, logs);
        using var client = app.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri("/health/ready", UriKind.Relative))).StatusCode);

        Assert.Equal([7, 8, 9], AppliedVersions(logs));
        Assert.Single(logs.Entries, e => e.EventId.Id == 1003 && VersionOf(e) == 6);
        Assert.DoesNotContain(logs.Entries, e => e.Level >= LogLevel.Error);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri("/customers/1", UriKind.Relative))).StatusCode);

        await using var check = connect();
        await check.OpenAsync();
        Assert.Equal(scripts.Select(s => s.Version), await VersionsAsync(check));

        // 7 adds idempotency_keys.customer_id and its index, 9 customers.phone_key and its index; the rest of customers is as the crashed 6 left it.
        var upgraded = await SchemaAsync(check, Dialect);
        Assert.Contains(crashed, line => OfCustomers(line) && line.Contains("deleted_at", StringComparison.Ordinal));
        Assert.Contains(upgraded, line => OfCustomers(line) && line.Contains("ix_customers_phone_key", StringComparison.Ordinal));
        Assert.Equal(crashed.Where(OfCustomers).Where(WithoutPhoneKey), upgraded.Where(OfCustomers).Select(WithoutPhoneKeyColumn).Where(WithoutPhoneKey));

        // MySQL lines start with the table name; SQLite's name it as tbl_name.
        static bool OfCustomers(string line) =>
            line.StartsWith("customers |", StringComparison.Ordinal) || line.Contains("| customers |", StringComparison.Ordinal);

        // SQLite's CREATE TABLE text gains the column; MySQL lists it (and its index) on lines of their own.
        static bool WithoutPhoneKey(string line) => !line.Contains("phone_key", StringComparison.Ordinal);
        static string WithoutPhoneKeyColumn(string line) =>
            System.Text.RegularExpressions.Regex.Replace(line, @", phone_key TEXT GENERATED ALWAYS AS \(.*\) VIRTUAL", string.Empty, System.Text.RegularExpressions.RegexOptions.Singleline);
    }

    internal static WebApplicationFactory<Program> WithLogs(CustomerApiFactory factory, LogCapture logs) =>
        factory.WithWebHostBuilder(builder => builder.ConfigureLogging(logging => logging
            .AddProvider(logs)
            .AddFilter<LogCapture>(null, LogLevel.Information)));

    /// <summary>The versions the migrator logged applying ("Applying schema migration N"), in order.</summary>
    internal static List<int> AppliedVersions(LogCapture logs) =>
        [.. logs.Entries.Where(e => e.EventId.Id == 1001 && e.Category == typeof(Migrator).FullName).Select(VersionOf)];

    internal static int VersionOf(LogCapture.Entry entry) =>
        int.Parse(VersionPair().Match(entry.Text).Groups[1].Value, CultureInfo.InvariantCulture);

    private static async Task<HttpResponseMessage> SendCreateAsync(HttpClient client, string name, string email, string? idempotencyKey = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/customers") { Content = Json.Body(new { name, email }) };
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        return await client.SendAsync(request);
    }

    [GeneratedRegex(@"\| Version=(\d+)")]
    private static partial Regex VersionPair();
}

public sealed class SqliteMigrationUpgradeTests() : MigrationUpgradeTests(new SqliteMigrationDatabases());

[Collection(MariaDbCollection.Name)]
public sealed class MariaDbMigrationUpgradeTests(MariaDbFixture mariaDb) : MigrationUpgradeTests(new MariaDbMigrationDatabases(mariaDb));
