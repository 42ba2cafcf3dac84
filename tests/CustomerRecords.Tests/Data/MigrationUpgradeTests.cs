using System.Data.Common;
using System.Net;
using CustomerRecords.Api.Data;
using CustomerRecords.Api.Idempotency;
using CustomerRecords.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using MySqlConnector;

namespace CustomerRecords.Tests.Data;

/// <summary>
/// A database made by an earlier version upgrades in place: its rows stay, the new migrations apply once,
/// and an <c>Idempotency-Key</c> answered before the upgrade (recorded as an HTTP status then) still replays.
/// </summary>
public abstract class MigrationUpgradeTests
{
    private const string Route = "POST /customers";
    private const string Key = "upgrade-key-1";
    private const string StoredCustomer =
        """{"id":1,"name":"Before Upgrade","email":"before.upgrade@example.com","phone":null,"created_at":"2026-11-01T10:00:00Z","updated_at":"2026-11-01T10:00:00Z","version":1}""";

    private protected abstract SqlDialect Dialect { get; }

    protected abstract Task<(Dictionary<string, string?> Settings, Func<DbConnection> Connect)> CreateDatabaseAsync();

    [Fact]
    public async Task ADatabaseOfThePreviousSchemaUpgradesAndReplaysItsAnsweredKeys()
    {
        var (settings, connect) = await CreateDatabaseAsync();
        await using (var connection = connect())
        {
            await connection.OpenAsync();
            await ApplyAsync(connection, Migrator.LoadScripts(Dialect).Where(s => s.Version <= 2));
            await ExecuteAsync(connection, """
                INSERT INTO customers (name, email, phone, created_at, updated_at, version, email_key, name_key)
                VALUES ('Before Upgrade', 'before.upgrade@example.com', NULL, @at, @at, 1, 'before.upgrade@example.com', 'before upgrade')
                """, ("@at", new DateTime(2026, 11, 1, 10, 0, 0, DateTimeKind.Utc)));
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
        using var request = new HttpRequestMessage(HttpMethod.Post, "/customers")
        {
            Content = Json.Body(new { name = "Before Upgrade", email = "before.upgrade@example.com" }),
        };
        request.Headers.Add("Idempotency-Key", Key);
        using var replay = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Created, replay.StatusCode);
        Assert.Equal("true", replay.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal("Before Upgrade", (string?)(await replay.ReadObjectAsync())["name"]);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri("/customers/1", UriKind.Relative))).StatusCode);

        await using var check = connect();
        await check.OpenAsync();
        Assert.Equal(Migrator.LoadScripts(Dialect).Select(s => s.Version), await VersionsAsync(check));
        Assert.Equal(1L, await ScalarAsync(check, "SELECT COUNT(*) FROM customers"));
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
            await ApplyAsync(connection, scripts.Where(s => s.Version <= 2));
            await ExecuteAsync(connection, scripts.Single(s => s.Version == 3).Sql);
        }

        await using var factory = new CustomerApiFactory(settings);
        using var client = factory.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri("/health/ready", UriKind.Relative))).StatusCode);

        await using var check = connect();
        await check.OpenAsync();
        Assert.Contains(3, await VersionsAsync(check));
    }

    private async Task ApplyAsync(DbConnection connection, IEnumerable<Migrator.Script> scripts)
    {
        await ExecuteAsync(connection, Dialect.CreateMigrationsTable);
        foreach (var script in scripts)
        {
            await ExecuteAsync(connection, script.Sql);
            await ExecuteAsync(connection, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (@v, @n, @at)",
                ("@v", script.Version), ("@n", script.Name), ("@at", DateTime.UtcNow));
        }
    }

    private static async Task ExecuteAsync(DbConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        await using var command = connection.CreateCommand(sql);
        foreach (var (name, value) in parameters)
        {
            command.With(name, value);
        }

        await command.ExecuteNonQueryAsync();
    }

    private static async Task<long> ScalarAsync(DbConnection connection, string sql)
    {
        await using var command = connection.CreateCommand(sql);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task<List<int>> VersionsAsync(DbConnection connection)
    {
        await using var command = connection.CreateCommand("SELECT version FROM schema_migrations ORDER BY version");
        await using var reader = await command.ExecuteReaderAsync();
        var versions = new List<int>();
        while (await reader.ReadAsync())
        {
            versions.Add(Convert.ToInt32(reader.GetValue(0), System.Globalization.CultureInfo.InvariantCulture));
        }

        return versions;
    }
}

public sealed class SqliteMigrationUpgradeTests : MigrationUpgradeTests, IDisposable
{
    private readonly TempDirectory _directory = new();

    private protected override SqlDialect Dialect => SqlDialect.Sqlite;

    protected override Task<(Dictionary<string, string?> Settings, Func<DbConnection> Connect)> CreateDatabaseAsync()
    {
        var file = Path.Combine(_directory.Path, $"{Guid.NewGuid():N}.db");
        var settings = CustomerApiFactory.SqliteSettings(_directory.Path);
        settings["ConnectionStrings:Customers"] = $"Data Source={file}";
        return Task.FromResult<(Dictionary<string, string?>, Func<DbConnection>)>((settings, () => new SqliteConnection($"Data Source={file}")));
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _directory.Dispose();
    }
}

[Collection(MariaDbCollection.Name)]
public sealed class MariaDbMigrationUpgradeTests(MariaDbFixture mariaDb) : MigrationUpgradeTests
{
    private protected override SqlDialect Dialect => SqlDialect.MySql;

    protected override async Task<(Dictionary<string, string?> Settings, Func<DbConnection> Connect)> CreateDatabaseAsync()
    {
        var connectionString = await mariaDb.CreateDatabaseAsync();
        return (CustomerApiFactory.MySqlSettings(connectionString), () => new MySqlConnection(connectionString));
    }
}
