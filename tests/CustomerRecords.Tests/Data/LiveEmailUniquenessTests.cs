using System.Data.Common;
using CustomerRecords.Api.Data;
using CustomerRecords.Tests.Infrastructure;
using static CustomerRecords.Tests.Data.MigrationSql;

namespace CustomerRecords.Tests.Data;

/// <summary>
/// Email uniqueness after migration 6, in SQL: it holds among live rows only (MySQL: the unique generated
/// live_email_key; SQLite: a partial unique index), and a breach is an error <see cref="SqlDialect.IsUniqueViolation"/>
/// recognises, which is what the service answers as 409.
/// </summary>
public abstract class LiveEmailUniquenessTests : MigrationSuite
{
    private static readonly DateTime At = new(2026, 11, 3, 14, 0, 0, DateTimeKind.Utc);

    private protected LiveEmailUniquenessTests(MigrationDatabases databases)
        : base(databases)
    {
    }

    /// <summary>A connection, open, to a new database with every migration applied.</summary>
    private async Task<DbConnection> OpenMigratedAsync()
    {
        var connection = (await CreateDatabaseAsync()).Connect();
        await connection.OpenAsync();
        await ApplyAsync(connection, Dialect, Migrator.LoadScripts(Dialect));
        return connection;
    }

    [Fact]
    public async Task ADeletedRowDoesNotHoldItsEmailAgainstALiveOne()
    {
        await using var connection = await OpenMigratedAsync();
        var deleted = await InsertAsync(connection, "shared@example.com", deletedAt: At);
        var alsoDeleted = await InsertAsync(connection, "SHARED@example.com", deletedAt: At.AddHours(1));
        var live = await InsertAsync(connection, "Shared@Example.com");

        Assert.Equal(3L, await ScalarAsync(connection, "SELECT COUNT(*) FROM customers WHERE email_key = 'shared@example.com'"));
        Assert.Equal(live, await ScalarAsync(connection, "SELECT id FROM customers WHERE email_key = 'shared@example.com' AND deleted_at IS NULL"));
        Assert.NotEqual(deleted, alsoDeleted);
    }

    [Fact]
    public async Task TwoLiveRowsWithOneEmailKeyAreRefusedAsAUniqueViolation()
    {
        await using var connection = await OpenMigratedAsync();
        await InsertAsync(connection, "twice@example.com");

        var refused = await Assert.ThrowsAnyAsync<DbException>(() => InsertAsync(connection, "Twice@Example.com"));

        Assert.True(Dialect.IsUniqueViolation(refused), refused.Message);
        Assert.Equal(1L, await ScalarAsync(connection, "SELECT COUNT(*) FROM customers WHERE email_key = 'twice@example.com'"));
    }

    [Fact]
    public async Task RestoringARowWhoseEmailALiveRowHasIsRefusedAsAUniqueViolation()
    {
        await using var connection = await OpenMigratedAsync();
        var deleted = await InsertAsync(connection, "taken@example.com", deletedAt: At);
        var live = await InsertAsync(connection, "TAKEN@example.com");
        const string Restore = "UPDATE customers SET deleted_at = NULL WHERE id = @id";

        var refused = await Assert.ThrowsAnyAsync<DbException>(() => ExecuteAsync(connection, Restore, ("@id", deleted)));

        Assert.True(Dialect.IsUniqueViolation(refused), refused.Message);
        Assert.Equal(1L, await ScalarAsync(connection, "SELECT COUNT(*) FROM customers WHERE id = @id AND deleted_at IS NOT NULL", ("@id", deleted)));

        // Once the live one is deleted, the other can come back.
        await ExecuteAsync(connection, "UPDATE customers SET deleted_at = @at WHERE id = @id", ("@at", At.AddDays(1)), ("@id", live));
        Assert.Equal(1, await ExecuteAsync(connection, Restore, ("@id", deleted)));
    }

    private async Task<long> InsertAsync(DbConnection connection, string email, DateTime? deletedAt = null) =>
        await ScalarAsync(connection, Dialect.ReturningId("""
            INSERT INTO customers (name, email, phone, created_at, updated_at, version, email_key, name_key, deleted_at)
            VALUES ('Same Email', @email, NULL, @at, @at, 1, @email_key, 'same email', @deleted_at)
            """), ("@email", email), ("@email_key", email.ToLowerInvariant()), ("@at", At), ("@deleted_at", deletedAt));
}

public sealed class SqliteLiveEmailUniquenessTests() : LiveEmailUniquenessTests(new SqliteMigrationDatabases());

[Collection(MariaDbCollection.Name)]
public sealed class MariaDbLiveEmailUniquenessTests(MariaDbFixture mariaDb) : LiveEmailUniquenessTests(new MariaDbMigrationDatabases(mariaDb));
