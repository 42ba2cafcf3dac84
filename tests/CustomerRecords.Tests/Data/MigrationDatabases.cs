using System.Data.Common;
using CustomerRecords.Api.Data;
using CustomerRecords.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using MySqlConnector;

namespace CustomerRecords.Tests.Data;

/// <summary>A migration test class run once per engine: each test makes its databases with <see cref="CreateDatabaseAsync"/>.</summary>
public abstract class MigrationSuite : IDisposable
{
    private readonly MigrationDatabases _databases;

    private protected MigrationSuite(MigrationDatabases databases) => _databases = databases;

    private protected SqlDialect Dialect => _databases.Dialect;

    public void Dispose()
    {
        _databases.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>A brand-new, empty database: the service's settings for it and a direct connection (not yet open).</summary>
    private protected Task<(Dictionary<string, string?> Settings, Func<DbConnection> Connect)> CreateDatabaseAsync() => _databases.CreateAsync();
}

/// <summary>
/// Where a migration test class gets its databases: one engine, a brand-new empty database per call, each with the
/// service's settings for it and a direct connection (not yet open) for building and reading it by SQL.
/// </summary>
internal abstract class MigrationDatabases : IDisposable
{
    public abstract SqlDialect Dialect { get; }

    public abstract Task<(Dictionary<string, string?> Settings, Func<DbConnection> Connect)> CreateAsync();

    public abstract void Dispose();
}

/// <summary>A new SQLite file per database, all in one folder removed on dispose.</summary>
internal sealed class SqliteMigrationDatabases : MigrationDatabases
{
    private readonly SqliteTempDirectory _directory = new();

    public override SqlDialect Dialect => SqlDialect.Sqlite;

    public override Task<(Dictionary<string, string?> Settings, Func<DbConnection> Connect)> CreateAsync()
    {
        var connectionString = _directory.NewConnectionString();
        var settings = CustomerApiFactory.SqliteSettings(_directory.Path);
        settings["ConnectionStrings:Customers"] = connectionString;
        return Task.FromResult<(Dictionary<string, string?>, Func<DbConnection>)>((settings, () => new SqliteConnection(connectionString)));
    }

    public override void Dispose() => _directory.Dispose();
}

/// <summary>A new database on the shared MariaDB server per call.</summary>
internal sealed class MariaDbMigrationDatabases(MariaDbFixture mariaDb) : MigrationDatabases
{
    public override SqlDialect Dialect => SqlDialect.MySql;

    public override async Task<(Dictionary<string, string?> Settings, Func<DbConnection> Connect)> CreateAsync()
    {
        var connectionString = await mariaDb.CreateDatabaseAsync();
        return (CustomerApiFactory.MySqlSettings(connectionString), () => new MySqlConnection(connectionString));
    }

    /// <summary>The databases stay on the fixture's server, which goes with the collection.</summary>
    public override void Dispose()
    {
    }
}
